"""Text fields (a form, a CSV row) to the API's schemas, and their errors back per field."""

import re
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ValidationError

from .api.problems import error_message, field_name
from .errors import AppError, FieldError

M = TypeVar("M", bound=BaseModel)
INTEGER = re.compile(r"^-?\d{1,12}$")


def parse(model: type[M], data: dict[str, str], *, partial: bool = False) -> M:
    """Form text to `model`: empty fields are absent (or cleared, for a PATCH), whole numbers
    become numbers; fields the model does not know are ignored (buttons, version)."""
    values: dict[str, Any] = {}
    for name in model.model_fields:
        if name not in data:
            continue
        text = data[name]
        if text == "":
            if partial:
                values[name] = None
            continue
        numeric = _holds_int(model.model_fields[name].annotation)
        values[name] = int(text) if numeric and INTEGER.match(text) else text
    return model.model_validate(values)


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
