"""How values read on the site: dates and snake_case vocabulary (pages and their maps)."""

from datetime import date

from . import i18n
from .i18n import N_
from .status import Step


def day(value: date | None) -> str:
    """A date in a list or a table: Oct 19, 2010; 19 oct 2010 in Spanish."""
    return i18n.format_day(value, "medium") if value else "—"


def month(value: date) -> str:
    """A month on an axis or a step of the map: Oct 2008; oct 2008 in Spanish."""
    return i18n.format_month(value)


def number(value: int | float | None) -> str:
    """A count or a population: 3,142; 3.142 in Spanish."""
    return "—" if value is None else i18n.format_number(value)


def long_day(value: date) -> str:
    """A date as a letter writes it: October 19, 2010; 19 de octubre de 2010."""
    return i18n.format_day(value, "long")


def words(value: str | None) -> str:
    """snake_case vocabulary as words in the answer's language: 'opt_out_request' -> 'opt
    out request', 'solicitud de exclusión' (the catalog has every vocabulary's values:
    i18n.extract_vocabulary)."""
    return i18n.gettext((value or "").replace("_", " ")) if value else ""


# What each next step asks of the organizers, as the dossier says it (translated where shown).
STEP_WORDS = {
    Step.send_notice: N_("Send the written notice to the state identification bureau and to ICE"),
    Step.notify_sib: N_("Send the notice to the state identification bureau too"),
    Step.notify_ice: N_("Send the notice to ICE too"),
    Step.chase: N_("Chase the overdue answer"),
    Step.log_outcome: N_("Log the outcome of the vote"),
    Step.confirm_activation: N_("Confirm whether the program was activated on its scheduled date"),
}
