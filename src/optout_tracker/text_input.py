"""Text fields (a form, a CSV row) to the API's schemas, and their errors back per field."""

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from .errors import AppError, FieldError, Message
from .i18n import N_, Sentence

M = TypeVar("M", bound=BaseModel)
INTEGER = re.compile(r"^-?\d{1,12}$")


def parse(model: type[M], data: dict[str, str], *, partial: bool = False) -> M:
    """Form text to `model`: empty fields are absent (or cleared, for a PATCH), whole numbers
    become numbers; fields the model does not know are ignored (buttons, version)."""
    fields, whole = _fields(model)
    values: dict[str, Any] = {
        name: text or None for name, text in data.items() if name in fields and (text or partial)
    }
    for name in whole.intersection(values):
        if (text := values[name]) is not None and INTEGER.match(text):
            values[name] = int(text)
    return model.model_validate(values)


@cache
def _fields(model: type[BaseModel]) -> tuple[frozenset[str], frozenset[str]]:
    """The model's fields, and those of them that take whole numbers (ids, tallies): worked
    out once per model, since for a large CSV import it costs more than the validation."""
    fields = model.model_fields
    return frozenset(fields), frozenset(k for k, f in fields.items() if _holds_int(f.annotation))


def _holds_int(annotation: Any) -> bool:
    """Whether a field takes whole numbers (ids, tallies), so that "5" is meant as 5."""
    if annotation is int:
        return True
    return any(_holds_int(arg) for arg in get_args(annotation))


# The names of the form fields, as an error summary writes them (`words`: "held on"), for the
# catalog; fields whose words are vocabulary too (state, name, email, yes, no) have them already.
FIELD_WORDS = (
    N_("absent"),
    N_("abstain"),
    N_("activated on"),
    N_("agency id"),
    N_("alerts"),
    N_("announced on"),
    N_("channel"),
    N_("contact checked on"),
    N_("contact source url"),
    N_("description"),
    N_("document url"),
    N_("effect"),
    N_("events"),
    N_("fips"),
    N_("follows letter id"),
    N_("held on"),
    N_("jurisdiction id"),
    N_("kind"),
    N_("letter id"),
    N_("measure"),
    N_("new activation on"),
    N_("notes"),
    N_("ocd id"),
    N_("outcome"),
    N_("parent id"),
    N_("population"),
    N_("postal address"),
    N_("private notes"),
    N_("public notes"),
    N_("purpose"),
    N_("received on"),
    N_("recipients"),
    N_("response due on"),
    N_("response window days"),
    N_("scheduled activation on"),
    N_("scope"),
    N_("secret"),
    N_("sent on"),
    N_("signed by"),
    N_("slug"),
    N_("source url"),
    N_("subject"),
    N_("summary"),
    N_("target"),
    N_("title"),
    N_("topic"),
    N_("url"),
    N_("website"),
    N_("file"),
    N_("password"),
    N_("version"),
    N_("locale"),
)


def field_errors(exc: ValidationError | AppError) -> dict[str, str]:
    """{field: message} for showing each error next to its field, in the page's language."""
    return {field: str(message) for field, message in field_messages(exc).items()}


def field_messages(exc: ValidationError | AppError) -> dict[str, Message]:
    """{field: message}, each message to be said in its reader's language."""
    if isinstance(exc, ValidationError):
        return {field_name(("body", *e["loc"])): error_message(e) for e in exc.errors()}
    errors: list[FieldError] = exc.errors or [FieldError("form", exc.detail)]
    return {e.field: e.message for e in errors}


def field_name(loc: Sequence[int | str]) -> str:
    """('query', 'limit') -> 'limit'; ('body', 'votes', 0, 'yes') -> 'votes[0].yes'."""
    parts = list(loc[1:] if loc and loc[0] in {"query", "body", "path", "header"} else loc)
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or (str(loc[0]) if loc else "request")


# Pydantic's errors as the pages say them, by the error's type: each message is pydantic's
# own English with the error's context (`ctx`) as its named parts, so that in English it reads
# exactly as pydantic writes it (the API's wording); by the count, where English has a plural.
PYDANTIC: dict[str, str | tuple[str, str, str]] = {
    "missing": N_("Field required"),
    "string_type": N_("Input should be a valid string"),
    "string_too_short": (
        "min_length",
        N_("String should have at least {min_length} character"),
        N_("String should have at least {min_length} characters"),
    ),
    "string_too_long": (
        "max_length",
        N_("String should have at most {max_length} character"),
        N_("String should have at most {max_length} characters"),
    ),
    "string_pattern_mismatch": N_("String should match pattern '{pattern}'"),
    "int_type": N_("Input should be a valid integer"),
    "int_parsing": N_("Input should be a valid integer, unable to parse string as an integer"),
    "int_from_float": N_("Input should be a valid integer, got a number with a fractional part"),
    "greater_than_equal": N_("Input should be greater than or equal to {ge}"),
    "less_than_equal": N_("Input should be less than or equal to {le}"),
    "greater_than": N_("Input should be greater than {gt}"),
    "less_than": N_("Input should be less than {lt}"),
    "bool_type": N_("Input should be a valid boolean"),
    "bool_parsing": N_("Input should be a valid boolean, unable to interpret input"),
    "date_type": N_("Input should be a valid date"),
    "date_parsing": N_("Input should be a valid date in the format YYYY-MM-DD, {error}"),
    "date_from_datetime_parsing": N_("Input should be a valid date or datetime, {error}"),
    "date_from_datetime_inexact": N_(
        "Datetimes provided to dates should have zero time - e.g. be exact dates"
    ),
    "datetime_type": N_("Input should be a valid datetime"),
    "datetime_parsing": N_("Input should be a valid datetime, {error}"),
    "datetime_from_date_parsing": N_("Input should be a valid datetime or date, {error}"),
    "enum": N_("Input should be {expected}"),
    "literal_error": N_("Input should be {expected}"),
    "list_type": N_("Input should be a valid list"),
    "too_long": (
        "max_length",
        N_(
            "{field_type} should have at most {max_length} item after validation, "
            "not {actual_length}"
        ),
        N_(
            "{field_type} should have at most {max_length} items after validation, "
            "not {actual_length}"
        ),
    ),
    "extra_forbidden": N_("Extra inputs are not permitted"),
}


def error_message(error: Any) -> Message:
    """A pydantic error's message, to be said in its reader's language: a schema validator's
    own (a ValueError holding a Sentence), or pydantic's by its type; pydantic's English for a
    type the pages never meet, and without the "Value error, " of a validator's plain text."""
    ctx = error.get("ctx") or {}
    reason = ctx.get("error")
    if isinstance(reason, ValueError) and reason.args and isinstance(reason.args[0], Sentence):
        return reason.args[0]
    english = str(error["msg"]).removeprefix("Value error, ")
    said = PYDANTIC.get(error["type"])
    if said is None:
        return english
    if isinstance(said, tuple):
        count, singular, plural = said
        said = singular if ctx.get(count) == 1 else plural
    parts = {name: str(value) for name, value in ctx.items()}
    sentence = Sentence(said, **parts)
    try:
        return sentence if english == _english(sentence) else english
    except (KeyError, IndexError, ValueError):  # a context this table does not foresee
        return english


def _english(sentence: Sentence) -> str:
    return sentence.message.format_map(sentence.parts)
