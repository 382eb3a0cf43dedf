"""Letters and their chains of follow-ups, in SQL: which letters an answer has reached."""

import sqlalchemy as sa
from sqlmodel import col

from ..models import Letter, Response


def answered_ids() -> sa.CompoundSelect:
    """The ids of the letters an answer has reached, as the rules count them
    (`status._unanswered`): a response answers its own letter and, through the chain of
    follow-ups, the letter the chain began with; so an answer to a chaser answers the
    notice, and the whole chain with it."""
    chain = (
        sa.select(col(Letter.id).label("letter_id"), col(Letter.id).label("start_id"))
        .where(col(Letter.follows_letter_id).is_(None))
        .cte("chain", recursive=True)
    )
    chain = chain.union_all(
        sa.select(col(Letter.id), chain.c.start_id).join(
            chain, col(Letter.follows_letter_id) == chain.c.letter_id
        )
    )
    answers = sa.select(col(Response.letter_id)).where(col(Response.letter_id).is_not(None))
    answered_starts = sa.select(chain.c.start_id).where(chain.c.letter_id.in_(answers))
    through_chains = sa.select(chain.c.letter_id).where(chain.c.start_id.in_(answered_starts))
    return sa.union(through_chains, answers)  # a letter in a loop of follow-ups has no start
