"""One example per resource for the OpenAPI document: each record as the API answers it on
the shipped history (examples.json, captured from `optout-tracker demo`; a test checks that
the app still answers so, and that each validates), and the request that makes it: its
writable fields."""

import json
from functools import cache
from pathlib import Path
from typing import Any

from ..schemas import KINDS, RecordKind

FILE = Path(__file__).with_name("examples.json")


@cache
def answers() -> dict[str, dict[str, Any]]:
    """Each kind's example answer, by its entity (`vote`...)."""
    found: dict[str, dict[str, Any]] = json.loads(FILE.read_text(encoding="utf-8"))
    return found


def request(kind: RecordKind) -> dict[str, Any]:
    """The body of a POST that makes the kind's example (its writable fields that are set)."""
    answer = answers()[kind.entity]
    return {k: v for k, v in answer.items() if k in kind.create.model_fields and v is not None}


def document(schemas: dict[str, Any]) -> None:
    """Put each kind's examples into the document's component schemas."""
    for kind in KINDS:
        schemas[kind.public.__name__]["examples"] = [answers()[kind.entity]]
        schemas[kind.create.__name__]["examples"] = [request(kind)]
