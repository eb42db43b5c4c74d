"""Subcommands that live in their own modules (serve, roster, remind, ask, chat, …)."""


def register(sub) -> None:
    from . import cli_chat, diff_cli, documents_cli, remind_cli, serve_cli
    serve_cli.register(sub)
    documents_cli.register(sub)
    diff_cli.register(sub)
    remind_cli.register(sub)
    cli_chat.register(sub)
