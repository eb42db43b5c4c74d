"""The knowledge store: SQLite through sqlite-utils; the only code that writes SQL."""
from . import people  # noqa: F401  (registers its migration)
from . import progress  # noqa: F401,E402
from . import outbox  # noqa: F401,E402
from . import inbox_log  # noqa: F401,E402
from . import deliveries  # noqa: F401,E402
from . import generation  # noqa: F401,E402  (last: its triggers watch the tables above)
