"""Log lines as OPTOUT_LOG_FORMAT says: readable text, or one JSON object per line for a log
collector; either way with the time in UTC and the id of the request being answered.

`serve` and `worker` configure logging with `configure` (and hand `config` to uvicorn, which
applies it again in each of its worker processes); everything logs to stderr through the
root logger, uvicorn's own lines too. uvicorn's access log is off: http/observe.py logs
each request once, with more in it.
"""

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from .middleware import REQUEST_ID

LogFormat = Literal["text", "json"]
NO_REQUEST = REQUEST_ID.get()  # its default: the line belongs to no request
TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def utc_time(created: float) -> str:
    """A record's time in ISO 8601, UTC, to the millisecond: 2026-12-05T00:33:10.123Z."""
    moment = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    return moment.replace("+00:00", "Z")


class RequestIdFilter(logging.Filter):
    """Gives each record the id of the request it was logged in (middleware.RequestIds sets
    it; route functions' threads inherit it), unless the record names one itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class TextLines(logging.Formatter):
    """`2026-12-05T00:33:10.123Z INFO optout_tracker.access [<request id>] GET / 200 …`"""

    def __init__(self) -> None:
        super().__init__(TEXT, defaults={"request_id": NO_REQUEST})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return utc_time(record.created)


class JsonLines(JsonFormatter):
    """One JSON object per line: time, level, logger, message, request_id (when the line
    belongs to a request), then whatever the record carries (an access line's method, path,
    status, latency_ms, actor, client), and exc_info for a failure, its traceback in one
    string."""

    def __init__(self) -> None:
        super().__init__(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            # uvicorn's lines carry a copy of their message with terminal colours in it.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = utc_time(record.created)
        super().add_fields(log_data, record, message_dict)
        if log_data.get("request_id", NO_REQUEST) == NO_REQUEST:
            log_data.pop("request_id", None)


def config(log_format: LogFormat) -> dict[str, Any]:
    """The logging configuration (for logging.config.dictConfig, and uvicorn's log_config)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,  # the modules' loggers exist already
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"lines": {"()": JsonLines if log_format == "json" else TextLines}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "lines",
                "filters": ["request_id"],
            },
            "none": {"class": "logging.NullHandler"},
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's lines go through the root's handler like any other.
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # Replaced by http/observe.py's line (uvicorn is also told access_log=False).
            "uvicorn.access": {"handlers": [], "propagate": False},
            # OPTOUT_SQL_ECHO: SQLAlchemy gives the engine's logger a plain-text handler of its
            # own on stdout when it has none; with this one the statements reach the root's.
            "sqlalchemy.engine.Engine": {"handlers": ["none"], "propagate": True},
        },
    }


def configure(log_format: LogFormat) -> None:
    """Configure logging, unless something did already (as logging.basicConfig does): a
    program that runs a command in its own process, a test runner, keeps its handlers."""
    if not logging.getLogger().handlers:
        logging.config.dictConfig(config(log_format))
