"""The bundle's stack on one machine: what README's first command starts.

Run it with ``bash .ci/demo``. It prepares mailman-web with the embedded
default settings in ``var/`` (migrations, static files, offline compression,
the Site, a demo administrator) and serves it on http://127.0.0.1:8000/ until
Ctrl-C. A second run reuses what exists.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WEB_HOST = "127.0.0.1"
WEB_PORT = 8000
SITE_NAME = "Listes Crans (démo)"
ADMIN_USERNAME = "admin"
ADMIN_EMAIL = "admin@lists.example.crans"


class StackError(Exception):
    """A service of the stack could not be started; the message says which and why."""


def wait_for_http(url: str, timeout: float, process: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers (any HTTP status), or raise ``StackError``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(f"{url}: the server exited with status {process.returncode}.")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.3)
    raise StackError(f"{url} did not answer within {timeout:.0f} s.")


def ensure_port_free(host: str, port: int, service: str) -> None:
    """Raise ``StackError`` when something already listens on ``host:port``."""
    import socket

    with socket.socket() as probe:
        if probe.connect_ex((host, port)) == 0:
            raise StackError(f"{service}: port {host}:{port} is already in use.")


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """End ``process`` by its PID: SIGTERM, then SIGKILL after ``timeout``."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def prepare_web() -> str:
    """Migrate, collect and compress static files, set the Site and the demo admin.

    Returns the demo administrator's password.
    """
    import django
    from django.core.management import call_command

    django.setup()
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    from settings.local import STATIC_ROOT, local_secret

    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = Path(STATIC_ROOT) / "CACHE" / "manifest.json"
    if not manifest.exists() or newest_source_change() > manifest.stat().st_mtime:
        print("Compressing static files (offline, once)...")
        call_command("compress", verbosity=0)
    call_command("crans_set_site", domain=f"{WEB_HOST}:{WEB_PORT}", name=SITE_NAME, verbosity=0)

    password = local_secret("demo_admin_password")
    admin, _ = get_user_model().objects.get_or_create(
        username=ADMIN_USERNAME, defaults={"email": ADMIN_EMAIL}
    )
    admin.set_password(password)
    admin.save()
    EmailAddress.objects.update_or_create(
        user=admin, email=ADMIN_EMAIL, defaults={"verified": True, "primary": True}
    )
    call_command("crans_grant_superuser", ADMIN_USERNAME, verbosity=0)
    return password


def newest_source_change() -> float:
    """The time of the newest template or static file of the theme."""
    theme = REPO / "mailman_crans_theme"
    return max((path.stat().st_mtime for path in theme.rglob("*") if path.is_file()), default=0)


def serve_web() -> subprocess.Popen:
    """Start mailman-web's development server on 127.0.0.1:8000."""
    ensure_port_free(WEB_HOST, WEB_PORT, "mailman-web")
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "manage.py"),
            "runserver",
            "--noreload",
            f"{WEB_HOST}:{WEB_PORT}",
        ],
        cwd=REPO,
        env=os.environ,
    )
    wait_for_http(f"http://{WEB_HOST}:{WEB_PORT}/accounts/login/", timeout=60, process=process)
    return process


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings.local")
    os.environ.setdefault("MAILMAN_WEB_LOCAL_DIR", str(REPO / "var"))
    sys.path.insert(0, str(REPO))
    try:
        password = prepare_web()
        web = serve_web()
    except StackError as error:
        print(f"The demo could not start: {error}", file=sys.stderr)
        return 1
    print(
        f"\nmailman-web with the Crans bundle: http://{WEB_HOST}:{WEB_PORT}/\n"
        f"  administrator: {ADMIN_USERNAME} / {password}  (admin: http://{WEB_HOST}:{WEB_PORT}/admin/)\n"
        "Ctrl-C stops everything.\n"
    )
    try:
        web.wait()
    except KeyboardInterrupt:
        print("\nStopping...")
    finally:
        stop_process(web)
    return 0


if __name__ == "__main__":
    sys.exit(main())
