"""Errors a user can meet while reading a document. The message is shown as one line."""


class DocumentError(Exception):
    """A file that cannot be read as a plan document (empty, corrupt, encrypted, scanned, …)."""

    def __init__(self, message: str, *, code: str = "unreadable"):
        super().__init__(message)
        self.code = code  # short machine tag: empty, corrupt, encrypted, no_text, too_large, encoding, no_structure, unsupported
