"""Databases on the PostgreSQL server of the tests (the ``MAILMAN_WEB_DB_*`` variables).

``.ci/postgres`` starts a throw-away server and names it in those variables;
Mailman core's databases for the tests and the benchmarks live there too.
``PostgresCluster``: a server of one's own, for the tests that restart it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg2

from devstack.processes import LOOPBACK, process_alive


def postgresql_server() -> dict[str, str]:
    """The PostgreSQL server of the test suite (the MAILMAN_WEB_DB_* variables)."""
    return {
        "host": os.environ.get("MAILMAN_WEB_DB_HOST", "127.0.0.1"),
        "port": os.environ.get("MAILMAN_WEB_DB_PORT", "5432"),
        "user": os.environ.get("MAILMAN_WEB_DB_USER", "mailman3web"),
        "password": os.environ.get("MAILMAN_WEB_DB_PASSWORD", "mailman3web"),
    }


def administer_postgresql(statement: str) -> None:
    """Run ``statement`` outside a transaction on the suite's server (CREATE/DROP DATABASE)."""
    connection = psycopg2.connect(dbname="postgres", **postgresql_server())
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextlib.contextmanager
def scratch_database(purpose: str) -> Iterator[str]:
    """Create an empty database on the suite's server; yield its name; drop it at the end.

    It is named after ``MAILMAN_WEB_DB_NAME`` and ``purpose``, so that concurrent runs do not meet.
    """
    prefix = os.environ.get("MAILMAN_WEB_DB_NAME", "mailman3web")
    name = f"{prefix}_{purpose}_{secrets.token_hex(4)}"
    administer_postgresql(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        administer_postgresql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def core_database() -> Iterator[str]:
    """Create an empty PostgreSQL database for core; yield its URL; drop it at the end."""
    server = postgresql_server()
    with scratch_database("core") as name:
        yield (
            f"postgresql://{quote(server['user'], safe='')}:{quote(server['password'], safe='')}"
            f"@{server['host']}:{server['port']}/{name}"
        )


class PostgresCluster:
    """A PostgreSQL server of its own on 127.0.0.1:``port``, to stop and restart.

    As ``.ci/postgres`` makes it (trust authentication, no fsync), in a new
    folder of /tmp, owned by the ``postgres`` user when run as root (initdb
    refuses root; pytest's folders are closed to other users).
    """

    def __init__(self, port: int, user: str = "mailman3web") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="crans-mailman-web-pg-"))
        self.port = port
        self.user = user
        self.bindir = sorted(
            Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
        )[-1]

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def _run(self, *command: str, timeout: float = 60) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=timeout)

    def init(self) -> PostgresCluster:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", self.user,
            "-A", "trust", "-E", "UTF8", "--no-locale",
        )  # fmt: skip
        return self

    def start(self) -> None:
        options = f"-c listen_addresses={LOOPBACK} -p {self.port} -k {self.folder} -c fsync=off"
        log = str(self.folder / "server.log")
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            log,
            "-w",
            "-o",
            options,
            "start",
        )

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended), by its PID."""
        pid = self.pid()
        if pid is None or not process_alive(pid):
            return
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if process_alive(pid):
            os.kill(pid, signal.SIGKILL)

    def environment(self) -> dict[str, str]:
        """The ``MAILMAN_WEB_DB_*`` variables naming this server."""
        return {
            "MAILMAN_WEB_DB_HOST": LOOPBACK,
            "MAILMAN_WEB_DB_PORT": str(self.port),
            "MAILMAN_WEB_DB_USER": self.user,
            "MAILMAN_WEB_DB_PASSWORD": self.user,
            "MAILMAN_WEB_DB_NAME": "postgres",
        }

    def __enter__(self) -> PostgresCluster:
        self.init()
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
