"""Column types shared by the tables."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from .i18n import Sentence


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class SentenceJSON(sa.TypeDecorator[Sentence]):
    """A sentence kept as its message and parts (i18n.Sentence), so that each reader reads it
    in their own language."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value: Sentence | None, dialect: Dialect) -> Any:
        return None if value is None else value.as_json()

    def process_result_value(self, value: Any, dialect: Dialect) -> Sentence | None:
        return None if value is None else Sentence.from_json(value)


def enum_column(enum: type[StrEnum], name: str) -> Any:
    """A VARCHAR with a CHECK of the allowed values: portable, and no PG enum type to migrate."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum),
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def utcnow() -> datetime:
    return datetime.now(UTC)
