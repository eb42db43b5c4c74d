"""Subcommands added by later parts of the product (serve, chat, ask, roster …)."""


def register(sub) -> None:
    return None
