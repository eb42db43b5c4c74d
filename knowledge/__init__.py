"""The knowledge store: SQLite through sqlite-utils; the only code that writes SQL."""
from . import people  # noqa: F401  (registers its migration)
