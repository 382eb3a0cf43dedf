"""Text fields (a form, a CSV row) to the API's schemas, and their errors back per field."""

import re
from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from .errors import AppError, FieldError

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


def field_errors(exc: ValidationError | AppError) -> dict[str, str]:
    """{field: message} for showing each error next to its field."""
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


def error_message(error: Any) -> str:
    """Pydantic's message without the "Value error, " its own validators' messages get."""
    return str(error["msg"]).removeprefix("Value error, ")
