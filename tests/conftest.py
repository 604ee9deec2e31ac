"""Fixtures shared by the whole suite; tests/fixtures/ starts the servers of devstack/."""

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

pytest_plugins: list[str] = [
    "tests.fixtures.cas_server",
    "tests.fixtures.archives",
    "tests.fixtures.mailman_core",
    "tests.fixtures.browser",
    "tests.fixtures.production",
]


@pytest.fixture(autouse=True)
def each_test_starts_in_english() -> Iterator[None]:
    """Each test starts and ends in the default language (LANGUAGE_CODE).

    A test client's request in French leaves French active in the thread
    (LocaleMiddleware activates the request's language and never undoes it):
    without this, a test that reads English fails or passes by test order.
    """
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, not listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.fixture
def manage_environment(tmp_path) -> dict[str, str]:
    """The environment of ``manage.py`` with the embedded default in a fresh folder."""
    return {
        # settings.local exported MAILMAN_WEB_BASE_DIR for this process; in the
        # subprocess it must follow the fresh MAILMAN_WEB_LOCAL_DIR instead.
        **{key: value for key, value in os.environ.items() if key != "MAILMAN_WEB_BASE_DIR"},
        "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.local",
        "MAILMAN_WEB_LOCAL_DIR": str(tmp_path / "var"),
    }


@pytest.fixture
def run_manage(manage_environment):
    """Run ``manage.py`` in a subprocess with ``manage_environment`` (and ``env``).

    ``cwd``: the folder it is run from (the clone by default).
    """

    def run(*args: str, env: dict[str, str] | None = None, check: bool = True, cwd: Path = REPO):
        result = subprocess.run(
            [sys.executable, str(REPO / "manage.py"), *args],
            cwd=cwd,
            env={**manage_environment, **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"manage.py {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
            )
        return result

    return run
