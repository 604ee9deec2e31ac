"""Mailman core 3.3.10 in a virtualenv of its own, and an SMTP sink for what it sends.

``MailmanCore`` configures one core in a folder (SQLite or PostgreSQL, REST
and LMTP on the loopback, the hyperkitty archiver when given mailman-web's
address), starts it, waits until it answers and stops it with every runner
it started. The demo and the tests start core through it, and only through it.
"""

from __future__ import annotations

import contextlib
import mailbox
import os
import secrets
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import requests
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from mailmanclient import Client

from devstack.processes import LOOPBACK, descendants, free_port, port_in_use, process_alive

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VENV = REPO / "var" / "venvs" / "mailman-core"
CORE_REQUIREMENTS = (
    "mailman==3.3.10",
    "mailman-hyperkitty",
    # SQLAlchemy 2.1 breaks `GET /3.1/lists`.
    "sqlalchemy<2.1",
    "psycopg2-binary",
)
DATABASE_CLASSES = {
    "sqlite": "mailman.database.sqlite.SQLiteDatabase",
    "postgresql": "mailman.database.postgresql.PostgreSQLDatabase",
}
# Core answers in ~8 s on an idle machine; a machine shared with other jobs
# can take many times as long.
START_TIMEOUT = 180.0


class MailmanCoreError(RuntimeError):
    """Core could not be installed, started or stopped; the message says why."""


def install_mailman_core(venv: Path = DEFAULT_VENV) -> None:
    """Create core's virtualenv, unless one with the same requirements exists."""
    marker = venv / "crans-requirements.txt"
    wanted = "\n".join(CORE_REQUIREMENTS)
    if marker.exists() and marker.read_text() == wanted and (venv / "bin" / "mailman").exists():
        return
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    for command in (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", *CORE_REQUIREMENTS],
    ):
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise MailmanCoreError(
                f"Installing Mailman core in {venv} failed ({' '.join(command)}):\n"
                f"{result.stderr[-3000:]}"
            )
    marker.write_text(wanted)


class SMTPSink:
    """An SMTP server on the loopback that stores each message in a Maildir."""

    def __init__(self, folder: Path, port: int):
        self.folder = Path(folder)
        self.port = port
        self._controller: Controller | None = None

    def start(self) -> None:
        if port_in_use(self.port):
            raise MailmanCoreError(f"SMTP sink: port {LOOPBACK}:{self.port} is already in use")
        for subfolder in ("tmp", "new", "cur"):  # a Maildir
            (self.folder / subfolder).mkdir(parents=True, exist_ok=True)
        self._controller = Controller(Mailbox(self.folder), hostname=LOOPBACK, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SMTPSink:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def messages(self) -> list[mailbox.MaildirMessage]:
        """Every message received so far, oldest first."""
        box = mailbox.Maildir(self.folder, create=False)
        return sorted(box, key=lambda message: message.get_date())


class MailmanCore:
    """One Mailman core: its configuration and var dir live in ``folder``."""

    def __init__(
        self,
        folder: Path,
        database_url: str,
        smtp_port: int,
        *,
        rest_port: int | None = None,
        lmtp_port: int | None = None,
        archiver_base_url: str | None = None,
        archiver_key: str | None = None,
        venv: Path = DEFAULT_VENV,
        admin_user: str = "restadmin",
        admin_pass: str | None = None,
        start_timeout: float = START_TIMEOUT,
        extra_config: str = "",
    ):
        """Core in ``folder`` on ``database_url``, mailing to ``smtp_port``; ports: free ones."""
        self.folder = Path(folder).resolve()
        self.database_url = database_url
        self.smtp_port = smtp_port
        self.rest_port = rest_port or free_port()
        self.lmtp_port = lmtp_port or free_port()
        self.archiver_base_url = archiver_base_url
        self.archiver_key = archiver_key
        self.venv = Path(venv)
        self.admin_user = admin_user
        self.admin_pass = admin_pass or self._kept_secret("rest_api_pass")
        self.start_timeout = start_timeout
        self.extra_config = extra_config  # appended to mailman.cfg

    # Paths and addresses.
    @property
    def config_file(self) -> Path:
        return self.folder / "mailman.cfg"

    @property
    def var_dir(self) -> Path:
        return self.folder / "var"

    @property
    def pid_file(self) -> Path:
        return self.var_dir / "master.pid"

    @property
    def log_file(self) -> Path:
        return self.var_dir / "logs" / "mailman.log"

    @property
    def rest_url(self) -> str:
        return f"http://{LOOPBACK}:{self.rest_port}"

    @property
    def mailman_bin(self) -> Path:
        return self.venv / "bin" / "mailman"

    def _kept_secret(self, name: str) -> str:
        """A random secret kept in the folder, so a second run reuses it."""
        path = self.folder / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        return path.read_text().strip()

    # Installation and configuration.
    def install(self) -> None:
        install_mailman_core(self.venv)

    def write_config(self) -> None:
        """Write mailman.cfg (and the files it names) in the folder."""
        scheme = urlsplit(self.database_url).scheme.split("+")[0]
        if scheme not in DATABASE_CLASSES:
            raise MailmanCoreError(f"Unsupported database URL for core: {self.database_url}")
        self.var_dir.mkdir(parents=True, exist_ok=True)
        postfix_cfg = self.folder / "postfix.cfg"
        postfix_cfg.write_text(
            "[postfix]\ntransport_file_type: hash\n"
            f"postmap_command: {shutil.which('postmap') or '/bin/true'}\n"
        )
        sections = [
            f"[paths.local]\nvar_dir: {self.var_dir}\n",
            "[mailman]\nlayout: local\nsite_owner: postmaster@localhost\n",
            f"[database]\nclass: {DATABASE_CLASSES[scheme]}\nurl: {self.database_url}\n",
            f"[webservice]\nhostname: {LOOPBACK}\nport: {self.rest_port}\n"
            f"admin_user: {self.admin_user}\nadmin_pass: {self.admin_pass}\n",
            f"[mta]\nincoming: mailman.mta.postfix.LMTP\n"
            f"lmtp_host: {LOOPBACK}\nlmtp_port: {self.lmtp_port}\n"
            f"smtp_host: {LOOPBACK}\nsmtp_port: {self.smtp_port}\n"
            f"configuration: {postfix_cfg}\n",
        ]
        if self.archiver_base_url:
            hyperkitty_cfg = self.folder / "hyperkitty.cfg"
            hyperkitty_cfg.write_text(
                f"[general]\nbase_url: {self.archiver_base_url}\n"
                f"api_key: {self.archiver_key or ''}\n"
            )
            sections.append(
                "[archiver.hyperkitty]\nclass: mailman_hyperkitty.Archiver\nenable: yes\n"
                f"configuration: {hyperkitty_cfg}\n"
            )
        if self.extra_config:
            sections.append(self.extra_config)
        self.config_file.write_text("\n".join(sections))

    # Running.
    def mailman(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``mailman -C mailman.cfg ARGS`` (as root with --run-as-root).

        The output goes through a file, not a pipe: the daemons that ``start``
        leaves behind would keep a pipe open for ever.
        """
        command = [str(self.mailman_bin), "-C", str(self.config_file)]
        if os.geteuid() == 0:
            command.append("--run-as-root")
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(
                [*command, *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=timeout,
                cwd=self.folder,
            )
            output.seek(0)
            result.stdout = output.read()
        return result

    def rest_answers(self) -> bool:
        try:
            response = requests.get(
                f"{self.rest_url}/3.1/system/versions",
                auth=(self.admin_user, self.admin_pass),
                timeout=2,
            )
        except requests.RequestException:  # not listening yet, or too slow to answer
            return False
        return response.status_code == 200

    def master_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log yet)"

    def start(self, *, force: bool = False) -> float:
        """Start core and wait until its REST API and LMTP server answer; return the seconds.

        ``force``: remove the master lock that a core which died without stopping
        left behind (``mailman start --force``; kept while its process runs).
        """
        for name, port in (("REST", self.rest_port), ("LMTP", self.lmtp_port)):
            if port_in_use(port):
                raise MailmanCoreError(
                    f"Mailman core: {name} port {LOOPBACK}:{port} is already in use"
                )
        pid = self.master_pid()
        if pid is not None and not process_alive(pid):
            # Left by a core that died without stopping: it would pass for the
            # new master, dead already, until that one writes its own.
            self.pid_file.unlink()
        began = time.monotonic()
        result = self.mailman("start", *(["--force"] if force else []))
        if result.returncode != 0:
            raise MailmanCoreError(f"`mailman start` failed ({self.config_file}):\n{result.stdout}")
        deadline = began + self.start_timeout
        # The runners start in parallel: REST may answer before LMTP listens.
        while not (self.rest_answers() and port_in_use(self.lmtp_port)):
            pid = self.master_pid()
            if time.monotonic() > deadline or (pid is not None and not process_alive(pid)):
                self.stop()
                raise MailmanCoreError(
                    f"Mailman core's REST API ({self.rest_url}) or LMTP server "
                    f"({LOOPBACK}:{self.lmtp_port}) did not answer within "
                    f"{self.start_timeout:.0f} s; see {self.log_file}:\n{self._log_tail()}"
                )
            time.sleep(0.25)
        return time.monotonic() - began

    def stop(self, timeout: float = 30.0) -> None:
        """Stop core and make sure that the master and every runner it started are gone."""
        pid = self.master_pid()
        if pid is None or not process_alive(pid):
            return
        processes = [pid, *descendants(pid)]
        self.mailman("stop")
        deadline = time.monotonic() + timeout
        while any(process_alive(process) for process in processes):
            if time.monotonic() > deadline:
                for process in processes:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process, signal.SIGKILL)
                break
            time.sleep(0.1)

    def __enter__(self) -> MailmanCore:
        """Install, configure and start core; ``with`` stops it at the end."""
        self.install()
        self.write_config()
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def create_list_with_member(self, posting_address: str, member: str):
        """Create the list (and its domain) with ``member`` subscribed; return the list.

        No welcome message: a message still queued when core stops blocks a rename.
        """
        local_part, domain = posting_address.split("@")
        client = self.client()
        client.create_domain(domain)
        mailing_list = client.get_domain(domain).create_list(local_part)
        mailing_list.subscribe(
            member,
            pre_verified=True,
            pre_confirmed=True,
            pre_approved=True,
            send_welcome_message=False,
        )
        return mailing_list

    def client(self) -> Client:
        return Client(f"{self.rest_url}/3.1", self.admin_user, self.admin_pass)

    def post_by_lmtp(self, message: EmailMessage) -> None:
        """Hand ``message`` to core's LMTP server, as Postfix does."""
        with smtplib.LMTP(LOOPBACK, self.lmtp_port) as lmtp:
            lmtp.send_message(message)
