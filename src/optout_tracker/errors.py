"""Typed errors. http/problems.py renders them as problem+json; the CLI prints them."""

from dataclasses import dataclass


@dataclass
class FieldError:
    field: str
    message: str


class AppError(Exception):
    status = 500
    title = "Internal error"

    def __init__(
        self,
        detail: str,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


class ConfigError(AppError):
    """The installation is misconfigured (bad URL, unwritable path)."""

    title = "Configuration error"


class NotFound(AppError):
    status = 404
    title = "Not found"


class InvalidInput(AppError):
    status = 422
    title = "Invalid input"


class TooLarge(AppError):
    status = 413
    title = "Content too large"


class Conflict(AppError):
    status = 409
    title = "Conflict"


class Unauthorized(AppError):
    status = 401
    title = "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="optout-tracker"'})


class Forbidden(AppError):
    status = 403
    title = "Forbidden"


class PreconditionFailed(AppError):
    status = 412
    title = "Precondition failed"


class TooManyRequests(AppError):
    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Busy(AppError):
    """Overloaded, not broken: nothing of the request was done, and a retry may well pass."""

    status = 503
    title = "Service unavailable"

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
