"""The status map as a PNG for share cards: the SVG the page draws (statusmap.py), fitted in
the Open Graph size on white under a title line, rendered by resvg and kept per data
version and parameters."""

import hashlib
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache

import resvg_py
from markupsafe import Markup, escape

from . import i18n
from .data_version import Kept
from .paths import PACKAGE_DIR

WIDTH, HEIGHT = 1200, 630  # what Open Graph and Twitter's large card show uncropped
TITLE_BAND = 64  # the title line's height; the map fills the rest
MEDIA_TYPE = "image/png"


@dataclass(frozen=True)
class Image:
    png: bytes
    etag: str  # a digest of the bytes: the same picture keeps its tag, whatever else changed


@dataclass
class Stats:
    """What the cache did in this process (tests and the curious read it)."""

    renders: int = 0
    hits: int = 0


stats = Stats()
# Images of the data version by the caller's key, the title and the language (the words of
# the picture and of its map's titles): a few dozen at most, ~100 kB each. The version comes
# from the database, so every process sees a change at once.
_rendered: Kept[tuple[Hashable, str, str], Image] = Kept(most=64)


def png(version: Hashable, key: Hashable, title: str, map_svg: Callable[[], Markup]) -> Image:
    """The map `map_svg` returns, under `title`, as a PNG: rendered only when this `key`
    (what else the map depends on) has not been rendered yet for this data `version` in the
    language of the answer."""
    kept = (key, title, i18n.LOCALE.get())
    if (image := _rendered.get(version, kept)) is not None:
        stats.hits += 1
        return image
    data = bytes(
        resvg_py.svg_to_bytes(
            svg_string=card_svg(map_svg(), title),
            background="#ffffff",
            style_sheet=_style_sheet(),
        )
    )
    image = Image(data, f'"{hashlib.sha256(data).hexdigest()[:32]}"')
    stats.renders += 1
    _rendered.put(version, kept, image)
    return image


def card_svg(map_svg: Markup, title: str) -> str:
    """The page's map markup, untouched, inside a card: a nested viewport below the title
    scales it to fit and centres it (SVG's default preserveAspectRatio)."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}">'
        f'<text x="24" y="44" font-family="sans-serif" font-size="30" fill="#1b1b1b">'
        f"{escape(title)}</text>"
        f'<svg x="12" y="{TITLE_BAND}" width="{WIDTH - 24}" height="{HEIGHT - TITLE_BAND - 12}">'
        f"{map_svg}</svg></svg>"
    )


@cache
def _style_sheet() -> str:
    """The site's stylesheet with its custom properties filled in (resvg knows no `var()`),
    so the picture has the page's colours and strokes, said once in site.css."""
    css = (PACKAGE_DIR / "static" / "site.css").read_text(encoding="utf-8")
    values = dict(re.findall(r"--([\w-]+):\s*([^;]+);", css))
    return re.sub(r"var\(--([\w-]+)\)", lambda m: values[m.group(1)], css)
