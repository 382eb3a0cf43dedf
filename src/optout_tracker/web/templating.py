"""Jinja setup shared by the page routers."""

from fastapi.templating import Jinja2Templates

from .. import csrf
from ..enums import STATUS_LABELS
from ..paths import TEMPLATES_DIR

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.globals["csrf_token"] = csrf.csrf_token
templates.env.globals["status_labels"] = STATUS_LABELS
