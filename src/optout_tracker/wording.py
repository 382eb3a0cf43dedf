"""How values read on the site: dates and snake_case vocabulary (pages and their maps)."""

from datetime import date

from .status import Step


def day(value: date | None) -> str:
    return f"{value:%b} {value.day}, {value.year}" if value else "—"


def long_day(value: date) -> str:
    """A date as a letter writes it: October 19, 2010."""
    return f"{value:%B} {value.day}, {value.year}"


def words(value: str | None) -> str:
    """snake_case vocabulary as words: 'opt_out_request' -> 'opt out request'."""
    return (value or "").replace("_", " ")


# What each next step asks of the organizers, as the dossier says it.
STEP_WORDS = {
    Step.send_notice: "Send the written notice to the state identification bureau and to ICE",
    Step.notify_sib: "Send the notice to the state identification bureau too",
    Step.notify_ice: "Send the notice to ICE too",
    Step.chase: "Chase the overdue answer",
    Step.log_outcome: "Log the outcome of the vote",
    Step.confirm_activation: "Confirm whether the program was activated on its scheduled date",
}
