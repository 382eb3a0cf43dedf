"""How values read on the site: dates and snake_case vocabulary (pages and their maps)."""

from datetime import date


def day(value: date | None) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value else "—"


def words(value: str | None) -> str:
    """snake_case vocabulary as words: 'opt_out_request' -> 'opt out request'."""
    return (value or "").replace("_", " ")
