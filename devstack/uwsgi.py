"""mailman-web under uwsgi with the options of Debian 13's ``/etc/mailman3/uwsgi.ini``.

Debian's file (mailman3-web 0+20240312) says ``master``, ``process = 2``,
``threads = 2``, ``enable-threads``, ``attach-daemon = python3 manage.py
qcluster``, ``wsgi-file = wsgi.py`` and a unix ``uwsgi-socket`` for the web
server in front. ``uwsgi_site()`` writes the same file in a folder of its own,
with an HTTP socket on 127.0.0.1 in place of the unix one (and, when asked, a
uwsgi socket on 127.0.0.1 as well), and runs PyPI's uwsgi of the virtualenv
on it. The site is the bundle's (``crans_mailman_web_settings.<module>``) or
PyPI mailman-web's own, without the bundle (``STOCK_SETTINGS``); its
environment names the database (``MAILMAN_WEB_DB_*``), core, the CAS and the
secrets, as in production (``site_environment()``). ``prepare_site()``
migrates, collects and compresses the static files offline, as a server
does once after an upgrade. What ``process = 2`` does: docs/production.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack.processes import (
    LOOPBACK,
    WaitError,
    descendants,
    end_processes,
    free_port,
    process_alive,
    process_status,
    tail,
)

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
UWSGI = BIN / "uwsgi"
MAILMAN_WEB = BIN / "mailman-web"
# The bundle's production settings, and PyPI mailman-web's own (no bundle).
BUNDLE_SETTINGS = "crans_mailman_web_settings.production"
STOCK_SETTINGS = "devstack.stock_settings"
START_TIMEOUT = 120.0

# Debian 13's worker options, written as Debian writes them. "process" is
# not an option of uwsgi (its option is "processes"): see docs/production.md.
DEBIAN_WORKERS: tuple[tuple[str, str], ...] = (("process", "2"), ("threads", "2"))

SPAWNED = re.compile(r"spawned uWSGI worker (\d+) \(pid: (\d+), cores: (\d+)\)", re.IGNORECASE)
RESPAWNED = re.compile(r"Respawned uWSGI worker (\d+) \(new pid: (\d+)\)")


class UwsgiError(RuntimeError):
    """uwsgi did not start, or the site under it did not answer; the message says why."""


def site_environment(
    folder: Path,
    *,
    settings: str = BUNDLE_SETTINGS,
    core_url: str = "http://127.0.0.1:8001",
    core_password: str = "restpass",
    archiver_key: str = "archiverkey",
    cas_url: str | None = None,
    secret_key: str = "uwsgi-site-secret-key-not-for-production-0123456789",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a site whose files live in ``folder`` (PostgreSQL: ``MAILMAN_WEB_DB_*``).

    The database comes from the current ``MAILMAN_WEB_DB_*`` (``.ci/postgres``'s server by default).
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MAILMAN_WEB_CONFIG", "MAILMAN_WEB_LOCAL_DIR", "PYTEST_CURRENT_TEST")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": settings,
            "PYTHONPATH": str(REPO),
            "MAILMAN_WEB_BASE_DIR": str(Path(folder).resolve()),
            "MAILMAN_WEB_SECRET_KEY": secret_key,
            "MAILMAN_REST_API_URL": core_url,
            "MAILMAN_REST_API_PASS": core_password,
            "MAILMAN_ARCHIVER_KEY": archiver_key,
            "MAILMAN_WEB_DB_PASSWORD": os.environ.get("MAILMAN_WEB_DB_PASSWORD", "mailman3web"),
            # Requests come to 127.0.0.1:<port> (the stock settings add it too).
            "MAILMAN_WEB_ALLOWED_HOSTS": LOOPBACK,
        }
    )
    if cas_url:
        env["CRANS_CAS_SERVER_URL"] = cas_url
    env.update(extra or {})
    (Path(folder) / "logs").mkdir(parents=True, exist_ok=True)
    return env


def manage(env: Mapping[str, str], *args: str, timeout: float = 600) -> str:
    """Run ``mailman-web ARGS`` with ``env``; its output, or ``UwsgiError`` if it fails."""
    result = subprocess.run(
        [str(MAILMAN_WEB), *args],
        env=dict(env),
        cwd=env["MAILMAN_WEB_BASE_DIR"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise UwsgiError(
            f"mailman-web {' '.join(args)} exited {result.returncode}:\n{result.stderr[-3000:]}"
        )
    return result.stdout


def prepare_site(env: Mapping[str, str], *, migrate: bool = True, static_from: Path | None = None):
    """Migrate, collect the static files and compress them offline (``COMPRESS_OFFLINE``).

    ``static_from``: the ``static`` folder of a site prepared with the same
    settings, copied instead of collected and compressed again (~1 min saved).
    """
    if migrate:
        manage(env, "migrate", "--no-input", "-v", "0")
    static_root = Path(env["MAILMAN_WEB_BASE_DIR"]) / "static"
    if static_from is not None:
        shutil.copytree(static_from, static_root, dirs_exist_ok=True)
        return
    manage(env, "collectstatic", "--no-input", "-v", "0")
    manage(env, "compress", "-v", "0")


def write_ini(
    folder: Path,
    port: int,
    *,
    workers: tuple[tuple[str, str], ...] = DEBIAN_WORKERS,
    task_queue: bool = True,
    uwsgi_socket_port: int | None = None,
    static: bool = False,
    extra: tuple[tuple[str, str], ...] = (),
) -> Path:
    """Write ``uwsgi.ini``: Debian 13's options, sockets on 127.0.0.1, logs in ``folder``."""
    wsgi_file = Path(sysconfig.get_path("purelib")) / "mailman_web" / "wsgi.py"
    options: list[tuple[str, str]] = [("http-socket", f"{LOOPBACK}:{port}")]
    if uwsgi_socket_port:
        options.append(("uwsgi-socket", f"{LOOPBACK}:{uwsgi_socket_port}"))
    options += [
        ("enable-threads", "true"),
        ("chdir", str(folder)),
        ("wsgi-file", str(wsgi_file)),
        ("master", "true"),
        *workers,
    ]
    if task_queue:
        options.append(("attach-daemon", f"{MAILMAN_WEB} qcluster"))
    if static:
        # Debian leaves the static files to the web server in front.
        options.append(("static-map", f"/static={folder / 'static'}"))
    options += [("logto", str(folder / "uwsgi.log")), *extra]
    ini = folder / "uwsgi.ini"
    ini.write_text("[uwsgi]\n" + "".join(f"{key} = {value}\n" for key, value in options))
    return ini


@dataclass
class UwsgiSite:
    """A running uwsgi: its base URL, its master's PID, its folder and log."""

    base_url: str
    pid: int
    folder: Path
    env: dict[str, str]
    process: subprocess.Popen = field(repr=False)

    @property
    def log(self) -> Path:
        return self.folder / "uwsgi.log"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def spawned_workers(self) -> list[tuple[int, int, int]]:
        """(worker number, PID, cores) of each "spawned uWSGI worker" line of the log."""
        return [tuple(map(int, found)) for found in SPAWNED.findall(self.log_text())]

    def respawned_workers(self) -> list[tuple[int, int]]:
        """(worker number, new PID) of each "Respawned uWSGI worker" line of the log."""
        return [tuple(map(int, found)) for found in RESPAWNED.findall(self.log_text())]

    def worker_pids(self) -> list[int]:
        """PIDs of the live workers: the master's children that run uwsgi itself."""
        master_command = _command_line(self.pid)
        return sorted(
            pid
            for pid in descendants(self.pid)
            if (status := process_status(pid)) is not None
            and int(status[1]) == self.pid
            and status[0] != "Z"
            and _command_line(pid) == master_command
        )

    def task_queue_pids(self) -> list[int]:
        """PIDs of the attached ``qcluster`` daemon and of its own processes."""
        workers = set(self.worker_pids())
        return [pid for pid in descendants(self.pid) if pid not in workers]

    def get(self, path: str, timeout: float = 10) -> tuple[int, str]:
        """GET ``path``; (status, body). Connection errors raise ``OSError``."""
        try:
            with urllib.request.urlopen(self.base_url + path, timeout=timeout) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def stop(self, timeout: float = 30) -> None:
        """End the master by its PID (SIGINT: uwsgi 2.0 reloads on SIGTERM), then what it left."""
        if self.process.poll() is not None:
            return
        family = descendants(self.pid)
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        end_processes([pid for pid in family if process_alive(pid)], timeout=10)


def _command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def start_uwsgi(
    folder: Path,
    env: Mapping[str, str],
    *,
    port: int | None = None,
    start_timeout: float = START_TIMEOUT,
    ready_path: str = "/archives/",
    **ini_options,
) -> UwsgiSite:
    """Start uwsgi on ``folder``'s ``uwsgi.ini`` and wait until the site answers ``ready_path``.

    ``ini_options`` go to ``write_ini`` (``workers``, ``task_queue``, ``uwsgi_socket_port``...).
    """
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    ini = write_ini(folder, port, **ini_options)
    process = subprocess.Popen(
        [str(UWSGI), "--ini", str(ini)],
        cwd=folder,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=(folder / "uwsgi.stderr").open("a"),
        start_new_session=True,  # Ctrl-C in a terminal reaches the caller alone
    )
    site = UwsgiSite(f"http://{LOOPBACK}:{port}", process.pid, folder, dict(env), process)
    deadline = time.monotonic() + start_timeout
    try:
        while True:
            if process.poll() is not None:
                raise UwsgiError(
                    f"uwsgi exited with status {process.returncode}; see {site.log}:\n"
                    f"{tail(site.log, 30)}"
                )
            with contextlib.suppress(OSError):
                status, _ = site.get(ready_path, timeout=10)
                if status < 500:
                    return site
            if time.monotonic() > deadline:
                raise WaitError(
                    f"{site.base_url}{ready_path} did not answer within {start_timeout:.0f} s; "
                    f"see {site.log}:\n{tail(site.log, 30)}"
                )
            time.sleep(0.2)
    except BaseException:
        site.stop()
        raise


@contextlib.contextmanager
def uwsgi_site(folder: Path, env: Mapping[str, str], **options) -> Iterator[UwsgiSite]:
    """``start_uwsgi(folder, env, **options)``; the master and its processes end with the block."""
    site = start_uwsgi(folder, env, **options)
    try:
        yield site
    finally:
        site.stop()


def main(argv: list[str] | None = None) -> int:
    """Serve the bundle (or the stock site) under uwsgi until Ctrl-C; for trying by hand."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("folder", type=Path, help="the site's files (created)")
    parser.add_argument("--stock", action="store_true", help="PyPI mailman-web without the bundle")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args(argv)
    env = site_environment(
        options.folder, settings=STOCK_SETTINGS if options.stock else BUNDLE_SETTINGS
    )
    prepare_site(env)
    with uwsgi_site(options.folder, env, port=options.port or None) as site:
        print(json.dumps({"base_url": site.base_url, "pid": site.pid}), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            site.process.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
