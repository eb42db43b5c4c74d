"""One process per store for a job (sending reminders, serving webhooks): an OS lock on a file next
to the database. The OS drops it when the process dies, so a restart takes it over at once."""
from __future__ import annotations

import fcntl
from pathlib import Path

from knowledge.db import store_path


class StoreLock:
    def __init__(self, db, job: str):
        path = store_path(db)
        self.path = f"{path}.{job}.lock" if path else None  # an in-memory store needs none
        self._fh = None

    @classmethod
    def for_path(cls, path, job: str) -> "StoreLock":
        """The same lock, for a store not opened here."""
        lock = cls.__new__(cls)
        lock.path, lock._fh = f"{Path(path).resolve()}.{job}.lock", None
        return lock

    def acquire(self) -> bool:
        """True when this process holds the lock now (also when it already did)."""
        if self._fh is not None or self.path is None:
            return True
        fh = open(self.path, "a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            fh.close()
            return False
        self._fh = fh
        return True

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
