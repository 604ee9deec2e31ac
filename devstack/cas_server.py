"""A real CAS server on loopback: django-cas-server in a minimal Django project.

``CasServer(folder, port, users)`` keeps the server's SQLite database and
log in ``folder`` (settings: ``devstack.cas_settings``: the ``cas_server``
app, one service pattern for http://127.0.0.1 and http://localhost on any
port, the attributes ``email``, ``first_name``, ``last_name`` and
``username`` released); ``start()`` runs it in a subprocess on 127.0.0.1 and
waits until it answers; ``stop()`` ends that process by its PID. The
subprocess is this module run with ``python -m``: it migrates, creates or
updates the users, and serves the project with Django's threaded WSGI
server. ``submit_login_form`` logs in on it with an HTTP client.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 60
# Services allowed to log in through this CAS: mailman-web served on loopback.
SERVICE_PATTERN = r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/.*$"
RELEASED_ATTRIBUTES = ("email", "first_name", "last_name", "username")


@dataclass(frozen=True)
class CasUser:
    """A member known to the CAS server; empty fields are released empty."""

    username: str
    password: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""


class CasServer:
    """django-cas-server in ``folder``, served on 127.0.0.1:``port`` (0: a free port).

    ``ticket_length``: the length of the tickets it issues (django-cas-server's default).
    """

    def __init__(
        self,
        folder: Path,
        port: int = 0,
        users: Iterable[CasUser] = (),
        ticket_length: int = 64,
    ) -> None:
        self.folder = Path(folder)
        self.port = port
        self.users = list(users)
        self.ticket_length = ticket_length
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        """The CAS server URL, as mailman-web's ``SERVER_URL`` wants it."""
        return f"http://{HOST}:{self.port}/cas/"

    def start(self) -> CasServer:
        """Start the server and wait until it answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write_users()
        log = (self.folder / "cas.log").open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", __spec__.name, str(self.folder), "serve", str(self.port)],
            cwd=REPO,
            env=self._environment(),
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        log.close()
        try:
            self.port = self._read_port()
            self._wait_until_it_answers()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """End the server process (by its PID) and wait for it."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.process = None

    def update_user(self, user: CasUser) -> None:
        """Create ``user`` on the CAS server, or change its password, e-mail and names."""
        self.users = [known for known in self.users if known.username != user.username]
        self.users.append(user)
        self._write_users()
        subprocess.run(
            [sys.executable, "-m", __spec__.name, str(self.folder), "users"],
            cwd=REPO,
            env=self._environment(),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def __enter__(self) -> CasServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "devstack.cas_settings",
            "DEVSTACK_CAS_FOLDER": str(self.folder.resolve()),
            "DEVSTACK_CAS_TICKET_LEN": str(self.ticket_length),
        }

    def _write_users(self) -> None:
        (self.folder / "users.json").write_text(json.dumps([asdict(u) for u in self.users]))

    def _read_port(self) -> int:
        """Read the port the subprocess prints once it listens (it migrates first)."""
        assert self.process is not None and self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], START_TIMEOUT)
        line = self.process.stdout.readline() if ready else ""
        if not line.strip().isdigit():
            raise RuntimeError(f"The CAS server did not start; see {self.folder / 'cas.log'}")
        return int(line)

    def _wait_until_it_answers(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if requests.get(f"{self.url}login", timeout=5).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"The CAS server does not answer; see {self.folder / 'cas.log'}")
            time.sleep(0.1)


class _LoginForm(html.parser.HTMLParser):
    """The hidden inputs and action of the login form of a CAS login page."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == "login_form":
            self.action = attributes.get("action") or ""
        elif tag == "input" and self.action is not None and attributes.get("type") == "hidden":
            self.fields[attributes["name"] or ""] = attributes.get("value") or ""


def submit_login_form(
    session: requests.Session, page: requests.Response, username: str, password: str
) -> requests.Response:
    """Fill in and post the CAS login form of ``page``; the answer, redirects not followed.

    A right password answers a redirect to the service with ``ticket=``.
    """
    form = _LoginForm()
    form.feed(page.text)
    if form.action is None:
        raise AssertionError(f"No CAS login form at {page.url}")
    return session.post(
        urljoin(page.url, form.action),
        data={**form.fields, "username": username, "password": password},
        allow_redirects=False,
        timeout=30,
    )


def _save_users(folder: Path) -> None:
    """Create or update the users of ``users.json`` and the service pattern."""
    from cas_server.models import ReplaceAttributName, ServicePattern
    from django.contrib.auth.models import User

    pattern, _ = ServicePattern.objects.update_or_create(
        name="mailman-web on loopback",
        defaults={"pos": 0, "pattern": SERVICE_PATTERN, "single_log_out": True},
    )
    for name in RELEASED_ATTRIBUTES:
        ReplaceAttributName.objects.get_or_create(name=name, replace="", service_pattern=pattern)
    for data in json.loads((folder / "users.json").read_text()):
        user = CasUser(**data)
        account, _ = User.objects.update_or_create(
            username=user.username,
            defaults={
                "email": user.email,
                "first_name": user.first_name,
                "last_name": user.last_name,
            },
        )
        account.set_password(user.password)
        account.save()


def _serve(port: int) -> None:
    """Serve the project on 127.0.0.1:``port`` and print the port once listening."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    server = ThreadedWSGIServer((HOST, port), WSGIRequestHandler)
    # With its static files (DEBUG is off), as the demo's login page needs them.
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    print(server.server_port, flush=True)
    server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the server subprocess (run by ``CasServer``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("users", help="create or update the users")
    serve = commands.add_parser("serve", help="migrate, create the users, serve")
    serve.add_argument("port", type=int)
    options = parser.parse_args(argv)

    import django
    from django.core.management import call_command

    django.setup()
    if options.command == "serve":
        call_command("migrate", verbosity=0, interactive=False)
    _save_users(options.folder)
    if options.command == "serve":
        _serve(options.port)


if __name__ == "__main__":
    main()
