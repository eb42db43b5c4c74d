"""The 督办 office's workbench: the 台账 in Excel both ways, calendar feeds and the web dashboard."""


def add_routes(app, settings, db) -> None:
    """Mount the dashboard (/, /login, /tasks, /task/N, /timeline, /static) and /calendar/<token>.ics."""
    from .web import setup
    setup(app, settings, db)
