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

from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi._compat import ModelField
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


def _defaults(fields: list[ModelField]) -> dict[str, Any] | None:
    """Each field's default when every one of them is optional with an immutable default (what FastAPI
    gives a request that sends none of them); None otherwise."""
    defaults = {}
    for field in fields:
        default = field.field_info.default
        if field.field_info.is_required() or not isinstance(default, str | int | float | bool | type(None)):
            return None
        defaults[field.name] = default
    return defaults


def _header_name(field: ModelField) -> bytes:
    """The header a parameter reads, as it appears in the ASGI scope (lower case)."""
    return (field.alias or field.name).replace("_", "-").lower().encode("latin-1")


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
        # A request without a query string or without a dependency's headers takes their defaults, as
        # FastAPI gives them, without looking each one up.
        query_defaults = _defaults(dependant.query_params)
        dependencies = [
            (sub, _defaults(sub.header_params), {_header_name(field) for field in sub.header_params})
            for sub in dependant.dependencies
        ]

        async def resolve(request: StrictJSONRequest) -> dict[str, Any] | None:
            """The endpoint's arguments, or None when FastAPI's handler must answer."""
            if request.decoded is None:
                return None
            values: dict[str, Any] = {}
            for sub, defaults, names in dependencies:
                if sub.call is known_query_parameters:
                    await known_query_parameters(request)
                    continue
                if defaults is not None and not any(name in names for name, _ in request.scope["headers"]):
                    headers = dict(defaults)
                else:
                    headers, errors = request_params_to_args(sub.header_params, request.headers)
                    if errors:
                        return None
                assert sub.call is not None and sub.name is not None and sub.request_param_name is not None
                values[sub.name] = await sub.call(**{sub.request_param_name: request}, **headers)
            groups: list[tuple[list[ModelField], Mapping[str, Any]]] = [
                (dependant.path_params, request.path_params),
                (dependant.header_params, request.headers),
            ]
            if query_defaults is not None and not request.scope["query_string"]:
                values |= query_defaults
            else:
                groups.append((dependant.query_params, request.query_params))
            for fields, received in groups:
                if not fields:
                    continue
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
