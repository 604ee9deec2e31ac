"""How the bundle words what it shows: errors in one line, dates in UTC."""

from datetime import datetime


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (without the detail databases add), or its type."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def utc_minute(moment: datetime) -> str:
    """``moment`` as the reports show it: ``2026-12-02 13:45 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")
