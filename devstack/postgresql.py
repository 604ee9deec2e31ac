"""Databases on the PostgreSQL server of the tests (the ``MAILMAN_WEB_DB_*`` variables).

``.ci/postgres`` starts a throw-away server and names it in those variables;
Mailman core's databases for the tests and the benchmarks live there too.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote

import psycopg2


def _postgresql_server() -> dict[str, str]:
    """The PostgreSQL server of the test suite (the MAILMAN_WEB_DB_* variables)."""
    return {
        "host": os.environ.get("MAILMAN_WEB_DB_HOST", "127.0.0.1"),
        "port": os.environ.get("MAILMAN_WEB_DB_PORT", "5432"),
        "user": os.environ.get("MAILMAN_WEB_DB_USER", "mailman3web"),
        "password": os.environ.get("MAILMAN_WEB_DB_PASSWORD", "mailman3web"),
    }


def administer_postgresql(statement: str) -> None:
    """Run ``statement`` outside a transaction on the suite's server (CREATE/DROP DATABASE)."""
    connection = psycopg2.connect(dbname="postgres", **_postgresql_server())
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
    finally:
        connection.close()


@contextlib.contextmanager
def core_database() -> Iterator[str]:
    """Create an empty PostgreSQL database for core; yield its URL; drop it at the end.

    It lives on the test suite's server (``MAILMAN_WEB_DB_*``), named after
    ``MAILMAN_WEB_DB_NAME`` so that concurrent runs do not meet.
    """
    prefix = os.environ.get("MAILMAN_WEB_DB_NAME", "mailman3web")
    name = f"{prefix}_core_{secrets.token_hex(4)}"
    server = _postgresql_server()
    administer_postgresql(f'CREATE DATABASE "{name}"')
    try:
        yield (
            f"postgresql://{quote(server['user'], safe='')}:{quote(server['password'], safe='')}"
            f"@{server['host']}:{server['port']}/{name}"
        )
    finally:
        administer_postgresql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
