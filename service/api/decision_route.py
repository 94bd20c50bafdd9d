"""The route class of the posts every dispatch goes through: their parameters resolved in one pass.

FastAPI resolves a route's dependencies with a generic walk that costs, per request, about as much
as deciding the call (it looks up caches, classifies each callable, builds a response object and
recurses for each dependency). A decision post has a known shape: the router's query check, one
dependency taking the request and header parameters (``decision_post``), and path, query and body
parameters. `DecisionRoute` resolves exactly that shape directly, with FastAPI's own functions for
each parameter group, so every value is validated as FastAPI validates it.

Only a request that resolves cleanly takes this path. Anything else (a body that is not JSON or
does not validate, a bad parameter, a query the route does not declare) goes to FastAPI's own
handler, with the body already read and decoded, which answers it exactly as it always has: the
errors, their order and their wording are FastAPI's. An authentication or permission failure is
raised from the dependency as FastAPI would raise it, since FastAPI too calls the dependency first.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args, request_params_to_args
from fastapi.routing import APIRoute, _effective_route_context_var

from service.api.deps import known_query_parameters
from service.api.strict_json import StrictJSONRequest, StrictJSONRoute


def resolves_in_one_pass(dependant: Dependant) -> bool:
    """Whether a route's parameters have the shape `DecisionRoute` resolves: the query check and
    dependencies marked ``one_pass`` that take only the request and header parameters."""
    for sub in dependant.dependencies:
        if sub.call is known_query_parameters:
            continue
        if not getattr(sub.call, "one_pass", False) or sub.dependencies or sub.path_params or sub.query_params:
            return False
        if sub.cookie_params or sub.body_params or sub.request_param_name is None or sub.name is None:
            return False
    return not dependant.cookie_params and dependant.request_param_name is None and bool(dependant.body_params)


class DecisionRoute(StrictJSONRoute):
    """A decision post: its JSON body decoded strictly, then its parameters resolved in one pass
    when they resolve cleanly, and by FastAPI's own handler otherwise."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        fastapi_handler = APIRoute.get_route_handler(self)
        # The route as FastAPI sees it where it is included (its router's dependencies added).
        context = _effective_route_context_var.get()
        route = context if context is not None and context.original_route is self else self
        dependant: Dependant = route.dependant
        if not resolves_in_one_pass(dependant):
            raise TypeError(f"{self.path}: DecisionRoute resolves only the router's query check, one_pass dependencies and body")
        embed: bool = route._embed_body_fields
        endpoint = dependant.call
        assert endpoint is not None

        async def resolve(request: StrictJSONRequest) -> dict[str, Any] | None:
            """The endpoint's arguments, or None when FastAPI's handler must answer."""
            if request.decoded is None:
                return None
            values: dict[str, Any] = {}
            for sub in dependant.dependencies:
                if sub.call is known_query_parameters:
                    await known_query_parameters(request)
                    continue
                headers, errors = request_params_to_args(sub.header_params, request.headers)
                if errors:
                    return None
                assert sub.call is not None and sub.name is not None and sub.request_param_name is not None
                values[sub.name] = await sub.call(**{sub.request_param_name: request}, **headers)
            for fields, received in (
                (dependant.path_params, request.path_params),
                (dependant.query_params, request.query_params),
                (dependant.header_params, request.headers),
            ):
                resolved, errors = request_params_to_args(fields, received)
                if errors:
                    return None
                values |= resolved
            body, errors = await request_body_to_args(
                body_fields=dependant.body_params, received_body=request.decoded[0], embed_body_fields=embed
            )
            if errors:
                return None
            return values | body

        async def handler(request: Request) -> Response:
            strict = StrictJSONRequest(request.scope, request.receive)
            await strict.decode()
            arguments = await resolve(strict)
            if arguments is None:
                return await fastapi_handler(strict)
            response = await endpoint(**arguments)
            if not isinstance(response, Response):  # every decision post answers its recorded JSON itself
                raise TypeError(f"{self.path}: a DecisionRoute endpoint must return a Response")
            return response

        return handler
