"""Errors of the store, importable without loading the store's modules."""


class StoreError(Exception):
    """The database file cannot be opened or used."""
