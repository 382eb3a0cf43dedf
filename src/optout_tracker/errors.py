"""Typed errors. http/problems.py renders them as problem+json; the CLI prints them.

A message is plain text or an i18n.Sentence: a page says a Sentence in its reader's
language, the API and the CLI in English (`english`), which stays their contract."""

from dataclasses import dataclass

from .i18n import N_, SOURCE, Sentence, using

Message = str | Sentence


def english(message: Message) -> str:
    """The message as the API and the logs say it, whatever the request's language."""
    with using(SOURCE):
        return str(message)


@dataclass
class FieldError:
    field: str
    message: Message


class AppError(Exception):
    status = 500
    title = N_("Internal error")  # translated where a page shows it

    def __init__(
        self,
        detail: Message,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(english(detail))
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}


class ConfigError(AppError):
    """The installation is misconfigured (bad URL, unwritable path)."""

    title = N_("Configuration error")  # translated where a page shows it


class NotFound(AppError):
    status = 404
    title = N_("Not found")  # translated where a page shows it


class InvalidInput(AppError):
    status = 422
    title = N_("Invalid input")  # translated where a page shows it


class TooLarge(AppError):
    status = 413
    title = N_("Content too large")  # translated where a page shows it


class Conflict(AppError):
    status = 409
    title = N_("Conflict")  # translated where a page shows it


class Unauthorized(AppError):
    status = 401
    title = N_("Authentication required")  # translated where a page shows it

    def __init__(self, detail: Message) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="optout-tracker"'})


class Forbidden(AppError):
    status = 403
    title = N_("Forbidden")  # translated where a page shows it


class PreconditionFailed(AppError):
    status = 412
    title = N_("Precondition failed")  # translated where a page shows it


class TooManyRequests(AppError):
    status = 429
    title = N_("Too many requests")  # translated where a page shows it

    def __init__(self, detail: Message, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class Busy(AppError):
    """Overloaded, not broken: nothing of the request was done, and a retry may well pass."""

    status = 503
    title = N_("Service unavailable")  # translated where a page shows it

    def __init__(self, detail: Message, retry_after: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
