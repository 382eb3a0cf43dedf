"""Languages: which one an answer is in, its translations (Babel catalogs compiled into the
package: locale/<lang>/LC_MESSAGES/messages.mo), and dates and numbers as that language
writes them. English is the source language: its messages are the catalog's keys.

The language of the request, the mail or the command being made is a context variable,
set by whoever knows it (the negotiation middleware, the mail worker per recipient), so
that templates and sentences ask `gettext` without passing it along."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any, TypeVar, Union

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_skeleton
from babel.numbers import format_decimal
from babel.support import Translations

LOCALES = ("en", "es")  # the first is the source language
SOURCE = LOCALES[0]
CATALOGS = Path(__file__).with_name("locale")
DOMAIN = "messages"
LOCALE: ContextVar[str] = ContextVar("locale", default=SOURCE)
K = TypeVar("K")


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of `locale` (the source language needs none)."""
    if locale == SOURCE:
        return NullTranslations()
    return Translations.load(str(CATALOGS), [locale], DOMAIN)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Marks a message for the catalog where it is defined (a label in a table), to be
    translated where it is shown, in that answer's language (`gettext(label)`)."""
    return message


class Translated(Mapping[K, str]):
    """A mapping of messages (marked with N_) that answers each in the current language."""

    def __init__(self, messages: Mapping[K, str]) -> None:
        self.messages = messages

    def __getitem__(self, key: K) -> str:
        return gettext(self.messages[key])

    def __iter__(self) -> Iterator[K]:
        return iter(self.messages)

    def __len__(self) -> int:
        return len(self.messages)


def gettext(message: str) -> str:
    return translations(LOCALE.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(LOCALE.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """`message` as used in `context` (a word that translates differently elsewhere)."""
    return translations(LOCALE.get()).pgettext(context, message)


Part = Union[str, int, date, "Sentence"]


class Sentence:
    """A message with named parts, said in the language of whoever reads it, so that a
    sentence made once (a jurisdiction's status reason, stored with its row) reads in each
    reader's language. Parts are text kept as it is (names, titles), numbers and dates as the
    language writes them, or sentences said in turn ("{purpose} sent to {agency}"). Stored as
    JSON (`as_json`, `from_json`). `Sentence("...")` marks its message for the catalog."""

    __slots__ = ("message", "parts")

    def __init__(self, message: str, /, **parts: Part) -> None:
        self.message = message
        self.parts = parts

    def __str__(self) -> str:
        said = {name: _said(part) for name, part in self.parts.items()}
        return gettext(self.message).format_map(said)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sentence) and (self.message, self.parts) == (
            other.message,
            other.parts,
        )

    def __hash__(self) -> int:
        return hash(self.message)

    def __repr__(self) -> str:
        return f"Sentence({self.message!r}, **{self.parts!r})"

    def as_json(self) -> dict[str, Any]:
        return {"message": self.message, "parts": {k: _encoded(v) for k, v in self.parts.items()}}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> "Sentence":
        return cls(value["message"], **{k: _decoded(v) for k, v in value["parts"].items()})


def _said(part: Part) -> str:
    if isinstance(part, Sentence):
        return str(part)
    if isinstance(part, date):
        return format_day(part)
    if isinstance(part, int):
        return format_number(part)
    return part


def _encoded(part: Part) -> Any:
    if isinstance(part, Sentence):
        return part.as_json()
    return {"date": part.isoformat()} if isinstance(part, date) else part


def _decoded(value: Any) -> Part:
    if isinstance(value, dict):
        return date.fromisoformat(value["date"]) if "date" in value else Sentence.from_json(value)
    return value


def format_day(value: date, style: str = "long") -> str:
    """A date as the language writes it: "October 19, 2010", "19 de octubre de 2010"."""
    return babel_date(value, format=style, locale=LOCALE.get())


def format_month(value: date) -> str:
    """A month as the language writes it in short: "Oct 2008", "oct 2008"."""
    return format_skeleton("yMMM", value, locale=LOCALE.get())


def format_number(value: int | float) -> str:
    """3,142 in English, 3.142 in Spanish."""
    return format_decimal(value, locale=LOCALE.get())


@contextmanager
def using(locale: str) -> Iterator[None]:
    """Everything in the block in `locale` (a mail to its recipient, say)."""
    token = LOCALE.set(locale)
    try:
        yield
    finally:
        LOCALE.reset(token)


def known(value: str | None) -> str | None:
    """`value` if it names a language the site speaks (es, es-MX, ES_mx...), as its code."""
    if not value:
        return None
    language = value.strip().replace("_", "-").split("-")[0].lower()
    return language if language in LOCALES else None


def negotiate(
    asked: str | None,
    kept: str | None,
    account: str | None,
    accept_language: str | None,
    default: str,
) -> str:
    """The language of an answer: asked for (`?lang=`), else kept from an earlier ask (the
    cookie), else the signed-in user's, else the browser's first that the site speaks
    (Accept-Language, by its q-values), else the site's default."""
    for choice in (asked, kept, account):
        if (found := known(choice)) is not None:
            return found
    offered = Locale.negotiate(_preferred(accept_language or ""), list(LOCALES), sep="-")
    return str(offered.language) if offered is not None else default


def _preferred(header: str) -> list[str]:
    """Accept-Language's languages, the most wanted first (ties keep their order)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        language, _, parameters = part.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if language and language != "*" and quality > 0:
            ranked.append((-quality, position, language))
    return [language for _, _, language in sorted(ranked)]


def extract_vocabulary(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[Any, ...]]:
    """A Babel extraction method (babel.cfg) for enums.py: its marked messages (the labels),
    as the python method finds them, and every value of its closed vocabularies as the pages
    write it (`wording.words`: "opt out request"), which they translate with `gettext`."""
    from enum import StrEnum

    from babel.messages.extract import extract_python

    from . import enums  # here, not above: enums imports this module

    yield from extract_python(fileobj, keywords, comment_tags, options)
    for value in vars(enums).values():
        if isinstance(value, type) and issubclass(value, StrEnum):
            for member in value:
                yield 0, "gettext", member.value.replace("_", " "), ["vocabulary"]
