"""Dependencies shared by the routers."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlmodel import Session

from ..config import Settings
from ..db import UnitsOfWork, unit_of_work
from ..schemas import MAX_ID
from ..services import status_projection


def get_session(request: Request) -> Iterator[Session]:
    write = request.method not in {"GET", "HEAD", "OPTIONS"}
    # Today's stored statuses are today's: the first request of the day derives again those
    # an upcoming event's date has reached (and commits) before this one reads.
    status_projection.keep_current(request.app.state.engine)
    with unit_of_work(request.app.state.engine, write=write) as session:
        yield session


def get_units(request: Request) -> UnitsOfWork:
    """The app's units of work, also for code outside a route (an error page)."""
    units: UnitsOfWork = request.app.state.units
    return units


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# scope="function": the transaction commits before the response goes out, so a client
# never sees a success whose commit then fails.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
# Instead of SessionDep, for a route whose service runs its own short transactions.
UnitsDep = Annotated[UnitsOfWork, Depends(get_units)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="The record's id.")]
