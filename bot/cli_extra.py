"""Subcommands that live in their own modules (serve, roster, ask, chat)."""


def register(sub) -> None:
    from . import remind_cli, serve_cli
    serve_cli.register(sub)
    remind_cli.register(sub)
    try:  # TEMP until cli_chat lands
        from . import cli_chat
    except ImportError:
        return
    cli_chat.register(sub)
