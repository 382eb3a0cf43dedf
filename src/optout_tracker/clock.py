"""Today's date, in one place so that tests can move it."""

from datetime import UTC, date, datetime


def today() -> date:
    # UTC is at or ahead of every US time zone, so "today" here is never behind an organizer's.
    return datetime.now(UTC).date()
