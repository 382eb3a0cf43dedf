"""Typed errors. api/problems.py renders them as problem+json; the CLI prints them."""

from dataclasses import dataclass


@dataclass
class FieldError:
    field: str
    message: str


class AppError(Exception):
    status = 500
    title = "Internal error"

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class ConfigError(AppError):
    """The installation is misconfigured (bad URL, unwritable path)."""

    title = "Configuration error"


class NotFound(AppError):
    status = 404
    title = "Not found"


class InvalidInput(AppError):
    status = 422
    title = "Invalid input"


class Conflict(AppError):
    status = 409
    title = "Conflict"
