"""Wire vocabulary and the models every resource shares: citations, findings, problems.

The schemas package is a leaf: it imports only the engine's vocabularies, so routes and actions
both depend on it and it depends on neither.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from typing_extensions import TypeAliasType

from service.engine.policy import (
    DECISIONS,
    EFFECTS,
    FLAGS,
    GRADES,
    MARKERS,
    PHASES,
    RISK_LEVELS,
    SETTINGS,
    TASKS,
    TRAINING_STATUSES,
)

# The wire enums are the engine's vocabularies, so the two cannot drift apart. Each is a named alias: OpenAPI
# declares it once under components/schemas and every field that uses it refers to it, so generated clients get
# one enum type per vocabulary. The values on the wire are the plain strings.
Task = TypeAliasType("Task", Literal[TASKS])  # type: ignore[valid-type]
Phase = TypeAliasType("Phase", Literal[PHASES])  # type: ignore[valid-type]
Grade = TypeAliasType("Grade", Literal[GRADES])  # type: ignore[valid-type]
Flag = TypeAliasType("Flag", Literal[FLAGS])  # type: ignore[valid-type]
Marker = TypeAliasType("Marker", Literal[MARKERS])  # type: ignore[valid-type]
RiskLevel = TypeAliasType("RiskLevel", Literal[RISK_LEVELS])  # type: ignore[valid-type]
Setting = TypeAliasType("Setting", Literal[SETTINGS])  # type: ignore[valid-type]
TrainingStatus = TypeAliasType("TrainingStatus", Literal[TRAINING_STATUSES])  # type: ignore[valid-type]
DecisionCode = TypeAliasType("DecisionCode", Literal[DECISIONS])  # type: ignore[valid-type]
Effect = TypeAliasType("Effect", Literal[EFFECTS])  # type: ignore[valid-type]
RecordKind = TypeAliasType("RecordKind", Literal["assessment", "escalation"])
EscalationDirection = TypeAliasType("EscalationDirection", Literal["stricter", "unchanged", "looser"])
Classification = TypeAliasType("Classification", Literal["within_remit", "outside_remit"])

Code = Field(min_length=1, max_length=100)
ShortText = Field(default=None, min_length=1, max_length=64)


# --- text the store can hold and a screen shows as it is ------------------------------------------------------

# Code point ranges refused. Control characters (Unicode category Cc: C0, DEL and C1, NUL included) cannot be
# stored by PostgreSQL (NUL) or break logs, CSV and screens; bidirectional-text controls make text display in
# an order other than the one stored ("Trojan Source"). Identifiers refuse every one of them; free text keeps
# tab, line feed and carriage return, and the bidi marks (U+061C, U+200E, U+200F) that right-to-left
# writing uses, but not the embeddings, overrides and isolates that reorder what follows them.
_CONTROLS = ((0x00, 0x1F), (0x7F, 0x9F))
_BIDI_MARKS = ((0x061C, 0x061C), (0x200E, 0x200F))
_BIDI_REORDERING = ((0x202A, 0x202E), (0x2066, 0x2069))
_TEXT_CONTROLS = ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F))


def _char_class(*groups: tuple[tuple[int, int], ...]) -> str:
    """A regex character class body with \\uXXXX escapes, read alike by Python and ECMA-262 (OpenAPI patterns)."""
    return "".join(f"\\u{lo:04X}" if lo == hi else f"\\u{lo:04X}-\\u{hi:04X}" for group in groups for lo, hi in group)


_IDENTIFIER_REFUSED = _char_class(_CONTROLS, _BIDI_MARKS, _BIDI_REORDERING)
_TEXT_REFUSED = _char_class(_TEXT_CONTROLS, _BIDI_REORDERING)
# The patterns are the check itself (a str constraint, so length limits keep their own errors) and what OpenAPI
# documents; text_problem() says which character broke them.
IDENTIFIER_PATTERN = f"^[^{_IDENTIFIER_REFUSED}]*[^\\s{_IDENTIFIER_REFUSED}][^{_IDENTIFIER_REFUSED}]*$"
FREE_TEXT_PATTERN = f"^[^{_TEXT_REFUSED}]*$"
_EXPLAINED = {
    IDENTIFIER_PATTERN: (
        re.compile(f"[{_char_class(_CONTROLS)}]"),
        re.compile(f"[{_char_class(_BIDI_MARKS, _BIDI_REORDERING)}]"),
    ),
    FREE_TEXT_PATTERN: (re.compile(f"[{_char_class(_TEXT_CONTROLS)}]"), re.compile(f"[{_char_class(_BIDI_REORDERING)}]")),
}

# An id, reference, code or name: what the store indexes, logs record and screens show. Used for body fields,
# query and path parameters alike, so that a value the store cannot hold never reaches it.
Identifier = Annotated[
    str,
    Field(
        pattern=IDENTIFIER_PATTERN,
        description="Printable text: not blank, no control characters (tab, newline, NUL) and no bidirectional-text controls.",
    ),
]
# A narrative or justification written by a person: lines and tabs kept, nothing PostgreSQL cannot store or that
# reorders the text on screen.
FreeText = Annotated[
    str,
    Field(
        pattern=FREE_TEXT_PATTERN,
        description="Free text: newlines and tabs allowed; NUL, other control characters and bidi embeddings, overrides "
        "and isolates are not.",
    ),
]


def text_problem(pattern: str, value: object) -> tuple[str, str] | None:
    """(code, message) for a value that fails IDENTIFIER_PATTERN or FREE_TEXT_PATTERN; None for any other pattern."""
    explained = _EXPLAINED.get(pattern)
    if explained is None or not isinstance(value, str):
        return None
    control, bidi = explained
    for regex, code, what in (
        (control, "control_character", "Control character"),
        (bidi, "bidi_control", "Bidirectional-text control"),
    ):
        found = regex.search(value)
        if found is not None:
            return code, f"{what} U+{ord(found.group()):04X} at position {found.start()} is not allowed here."
    return "blank", "The value is blank or only whitespace."


# --- date-times the store can hold ------------------------------------------------------------------------------

# Every date-time a caller sends must lie in this window once converted to UTC: the store converts to UTC, and
# year 1 at +14:00 is not a date any database (or Python) can hold. Naive date-times are read as UTC.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
_WINDOW = "2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z"


def as_utc(value: datetime) -> datetime | None:
    """The instant in UTC (naive read as UTC), or None when it is outside what a datetime can hold."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        return None


def _storable(value: datetime) -> datetime:
    utc = as_utc(value)
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise PydanticCustomError("datetime_out_of_range", "The date-time must lie from {window} (in UTC).", {"window": _WINDOW})
    return value


def window_end(start: datetime | None, end: datetime | None) -> datetime | None:
    """``end`` when a time window [start, end) is in order; an error (on ``to``) when it ends before it starts."""
    if start is not None and end is not None:
        first, last = as_utc(start), as_utc(end)
        if first is not None and last is not None and last < first:
            raise PydanticCustomError("window_order", "'to' is before 'from'.")
    return end


_NUMBER = re.compile(r"\s*[-+]?\d+(?:\.\d*)?\s*")


def _iso_8601(value: object) -> object:
    """A date-time in a JSON body is an ISO 8601 string (or, from Python, a datetime); never a number."""
    if isinstance(value, datetime) or (isinstance(value, str) and not _NUMBER.fullmatch(value)):
        return value
    raise PydanticCustomError("datetime_type", "Input should be an ISO 8601 date-time string")


def _whole(value: object) -> object:
    """JSON Schema counts 5.0 as an integer; so does the service (a strict model would not)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


# For an integer in a strict body, after its bounds (so they stay in the JSON Schema): whole-valued numbers
# such as 30.0 are integers too, as JSON Schema says; strings are not.
WHOLE = BeforeValidator(_whole)

_DATETIME_DOC = f"ISO 8601, from {_WINDOW}."
# Strict body models still read date-times from JSON strings (strict mode alone would want a datetime object).
WireDatetime = Annotated[
    datetime, BeforeValidator(_iso_8601), AfterValidator(_storable), Field(strict=False, description=_DATETIME_DOC)
]
# A date-time query parameter, bounded alike, and never a number read as Unix time.
QueryDatetime = Annotated[datetime, BeforeValidator(_iso_8601), AfterValidator(_storable), Field(description=_DATETIME_DOC)]


# A JSON request body: unknown fields refused and nothing coerced (no "true" or 1 for true, no "5" for 5,
# no "LOW" for "low"). Comments, not docstrings, so that the OpenAPI descriptions do not change. A request answered
# back (the request of a recorded decision) is documented by the same schema it was sent with, one component each.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_mode_override="validation")


# Query parameters: unknown ones refused; every value arrives as a string, so "true" and "5" are parsed.
class QueryModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Query parameters `from` and `to`: the recording times [from, to), each bounded, `to` not before `from`.
class RecordedWindow(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: QueryDatetime | None = Field(
        default=None,
        alias="from",
        description="Recorded at or after (ISO 8601, from 2000-01-01T00:00:00Z to 2100-01-01T00:00:00Z).",
    )
    to: QueryDatetime | None = Field(default=None, description="Recorded before (ISO 8601, same range); not before `from`.")

    @field_validator("to")
    @classmethod
    def _in_order(cls, to: datetime | None, info: ValidationInfo) -> datetime | None:
        return window_end(info.data.get("from_"), to)


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class CitationOut(Out):
    policy: str = Field(description="The policy set that declares the rule (a force, or 'national').")
    document: str
    document_id: str
    clause: str
    quote: str | None = Field(description="The words the rule rests on, verbatim; null for legislation.")
    label: str = Field(description="Short form, e.g. 'WMP 2.8.3'.")


class FindingOut(Out):
    code: str
    effect: Effect
    message: str
    citation: CitationOut


class PowerOut(Out):
    code: str
    name: str
    legal_basis: str


class PolicyRefOut(Out):
    id: str
    name: str
    document: str
    version: str
    effective_from: date
    review_due: date
    digest: str
    past_review_date: bool


class ProblemError(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. officer.designated_powers[1].")
    message: str
    code: str


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = None
