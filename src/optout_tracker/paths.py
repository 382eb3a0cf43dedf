"""Where the package finds its templates, migrations and data files."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = PACKAGE_DIR / "data"


def resource_dir(name: str) -> Path:
    """A wheel carries `name` inside the package; a checkout keeps it at the top level."""
    packaged = PACKAGE_DIR / name
    return packaged if packaged.is_dir() else PACKAGE_DIR.parents[1] / name


MIGRATIONS_DIR = resource_dir("migrations")
TEMPLATES_DIR = resource_dir("templates")
