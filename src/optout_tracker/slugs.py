"""URL slugs, one way for the reference data and for new jurisdictions alike."""

import re
import unicodedata


def slugify(text: str) -> str:
    """ASCII URL slug: accents folded, apostrophes and periods dropped, the rest hyphenated."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    folded = re.sub(r"['’.]", "", folded.lower())
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
