"""How the bundle words what it shows: errors in one line, dates in UTC, databases by location.

A database URL is never shown, logged or put in a message: :func:`database_location`
names its host, port and database only, and :func:`database_error` takes the
URL's other parts out of a driver's message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, unquote

from django.utils.translation import gettext as _


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (without the detail databases add), or its type."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def utc_minute(moment: datetime) -> str:
    """``moment`` as the reports show it: ``2026-12-02 13:45 UTC``."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


# What each part of a database URL may look like to be shown; any other is shown
# as "?" (a password in the wrong place, an escape that the driver refuses).
_URL_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*")
_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]+|/[A-Za-z0-9._/-]*")
_PORT = re.compile(r"[0-9]{1,5}")
_DATABASE = re.compile(r"[A-Za-z0-9._$-]+")
_FILE = re.compile(r"[A-Za-z0-9._/~+-]+")
_UNREADABLE = "?"
# A quoted word of a driver's message ("Secret%ZZ", 'x'); an unquoted one.
_QUOTED = re.compile(r"\"([^\"]*)\"|'([^']*)'")
_WORD = re.compile(r"[^\s\"',;()]+")
_HIDDEN = "…"
# Pieces of a URL shorter than this are taken out of a message only where quoted.
_SHORTEST_SECRET = 4
# Words of a URL that are no secret, and that drivers' messages use: schemes and
# libpq's parameters ("password authentication failed" stays readable).
_URL_WORDS = {
    "postgres",
    "postgresql",
    "psycopg2",
    "sqlite",
    "mysql",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "sslmode",
    "connect_timeout",
    "options",
    "application_name",
    "target_session_attrs",
}


@dataclass(frozen=True)
class DatabaseLocation:
    """Where a database URL leads: the only parts of it that may be shown."""

    # (host, port) pairs, "?" for what cannot be read; () for the driver's
    # default (a local socket); None for a file (SQLite) or a URL not understood.
    hosts: tuple[tuple[str, str], ...] | None
    # The database's name or file; "" when the URL names none; None: URL not understood.
    database: str | None

    def __str__(self) -> str:
        if self.database is None:
            return _("a URL that cannot be read")
        database = self.database or _("no database")
        if self.hosts is None:
            return database
        hosts = ",".join(
            (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
            for host, port in self.hosts
        )
        return _("%(database)s on %(host)s") % {
            "database": database,
            "host": hosts or _("the local socket"),
        }

    @property
    def safe_words(self) -> set[str]:
        """What a driver's message may quote of the URL: host names, ports, the database."""
        words = {self.database or ""}
        for host, port in self.hosts or ():
            words |= {host, port, f"{host}:{port}", f"[{host}]", f"[{host}]:{port}"}
        return words - {"", _UNREADABLE}


def database_location(url: str) -> DatabaseLocation:
    """Host, port and database of the database URL ``url``, read as libpq and SQLAlchemy do.

    Never its user, password or options: show this, never the URL. A part is
    kept only if it looks like what it is (a host name, a port number, a
    database name); any other is "?", so that a password in the wrong place
    (``user:pass/word@host``, ``?password=``, a bad percent-escape) never shows.
    """
    scheme, separator, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if not separator or not _URL_SCHEME.fullmatch(scheme):
        return DatabaseLocation(hosts=None, database=None)
    if scheme.partition("+")[0] == "sqlite":
        # sqlite:///relative/file, sqlite:////absolute/file: the path after the third slash.
        path = rest.partition("?")[0].removeprefix("/")
        return DatabaseLocation(hosts=None, database=path if _FILE.fullmatch(path) else "?")
    # libpq: the user part ends at an "@" before the first "/"; the hosts at "/" or "?".
    slash = rest.find("/")
    at = rest.rfind("@", 0, slash if slash >= 0 else len(rest))
    authority, path, query = _split_authority(rest[at + 1 :])
    parameters = dict(parse_qsl(query, keep_blank_values=True))
    database = parameters.get("dbname", unquote(path))
    return DatabaseLocation(
        hosts=_hosts(authority, parameters, user_part=at >= 0),
        database=database if not database or _DATABASE.fullmatch(database) else _UNREADABLE,
    )


def _split_authority(text: str) -> tuple[str, str, str]:
    """``hosts/path?query`` (or ``hosts?query``) into its three parts."""
    end = min((index for index in (text.find("/"), text.find("?")) if index >= 0), default=-1)
    if end < 0:
        return text, "", ""
    authority, rest = text[:end], text[end:]
    path, _question, query = (
        rest.removeprefix("/").partition("?")
        if rest[0] == "/"
        else (
            "",
            "",
            rest[1:],
        )
    )
    return authority, path, query


def _hosts(
    authority: str, parameters: dict[str, str], *, user_part: bool
) -> tuple[tuple[str, str], ...]:
    """(host, port) pairs of a URL's authority and of its ``host`` and ``port`` parameters."""
    names, ports = [], []
    for entry in authority.split(",") if authority else []:
        if entry.startswith("["):
            name, bracket, port = entry[1:].partition("]")
            name, port = (name, port.removeprefix(":")) if bracket else (_UNREADABLE, "")
        elif entry.count(":") > 1 and not user_part:
            # "user:pass/word@host": no "@" before the "/", libpq reads "pass" as a port.
            name, port = _UNREADABLE, _UNREADABLE
        else:
            name, _colon, port = entry.partition(":")
        names.append(unquote(name))
        ports.append(port)
    if "host" in parameters:
        names = parameters["host"].split(",")
    if "port" in parameters:
        ports = parameters["port"].split(",")
    if any(port and not _PORT.fullmatch(port) for port in ports):
        return ((_UNREADABLE, ""),)
    pairs = []
    for number, name in enumerate(names or [""]):
        port = ports[number] if number < len(ports) else (ports[0] if len(ports) == 1 else "")
        pairs.append((name if not name or _HOST.fullmatch(name) else _UNREADABLE, port))
    return tuple(pair for pair in pairs if pair != ("", ""))


def without_url_secrets(message: str, url: str) -> str:
    """``message`` (a database driver's) with no part of ``url`` but its host, port and database.

    libpq quotes what it refuses (``invalid percent-encoded token: "Secret%ZZ"``):
    a quoted word that is part of the URL, and not one of its host, port or
    database, is hidden; so is any other word that holds a piece of the URL
    (its user, password or options, raw or decoded).
    """
    decoded = unquote(url)
    safe = database_location(url).safe_words
    _scheme, _separator, rest = url.partition("://")
    pieces = {rest, unquote(rest)}
    for piece in re.split(r"[@/?&=:,]", rest):
        pieces |= {piece, unquote(piece)}
    pieces = sorted(
        (
            piece
            for piece in pieces - safe - _URL_WORDS
            if len(piece) >= _SHORTEST_SECRET and piece.lower() not in _URL_WORDS
        ),
        key=len,
        reverse=True,
    )

    def hide_quoted(match: re.Match) -> str:
        word = match.group(1) if match.group(1) is not None else match.group(2)
        if word and word not in safe and (word in url or word in decoded):
            return match.group(0).replace(word, _HIDDEN)
        return match.group(0)

    def hide_word(match: re.Match) -> str:
        word = match.group(0)
        if word.rstrip(".:") in safe:
            return word
        for piece in pieces:
            word = word.replace(piece, _HIDDEN)
        return word

    return _WORD.sub(hide_word, _QUOTED.sub(hide_quoted, message))


def database_error(error: BaseException, url: str) -> str:
    """The first line of a database driver's ``error``, without the secrets of ``url``."""
    return without_url_secrets(first_line(error), url)
