"""What the benchmarks on the test settings share: Django set up, and where and when they ran.

``rename_list.py`` and ``redirects.py`` run on the test settings (PostgreSQL,
``MAILMAN_WEB_DB_*``) in a test database of their own; their results name the
commit, the machine and its load average at the start and at the end.
"""

from __future__ import annotations

import logging
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


def setup_django(local_dir: str) -> None:
    """Django on the test settings, its local folder in ``local_dir``; the rename's logs muted."""
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crans_mailman_web_settings.test")
    os.environ.setdefault("MAILMAN_WEB_LOCAL_DIR", local_dir)
    import django

    django.setup()
    # The rename logs what it does: not the benchmark's output.
    logging.getLogger("crans_admin").setLevel(logging.WARNING)


def machine() -> str:
    """Python's and PostgreSQL's versions, the CPUs."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (postgres,) = cursor.fetchone()
    return (
        f"Python {platform.python_version()}, PostgreSQL {postgres}, "
        f"{os.cpu_count()} CPU(s), {platform.machine()}"
    )


def load() -> str:
    """The load average over 1, 5 and 15 minutes."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def commit() -> str:
    result = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    )
    return result.stdout.strip() or "unknown"


def summary(values: Iterable[float]) -> dict[str, float]:
    values = list(values)
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}
