"""Core's list data reaches the archives: a private list stays private, names and prefixes show.

mailman-web (``runserver``) and its task queue (``qcluster``) run as the demo
runs them, in processes of their own, on SQLite (the embedded default) and on
PostgreSQL (the test settings, as in production); a real Mailman core 3.3.10
archives posts through its own hyperkitty archiver. hyperkitty creates its
copy of a list on the first archived post and fills it from core in a task
(``update_from_mailman``): what that task wrote must still be there once every
task has run.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from django.db import connection

from devstack.core import MailmanCore
from devstack.demo import HOST, start_manage, start_task_queue, web_server_command
from devstack.processes import free_port, stop_process, wait_for_http

DOMAIN = "lists.example.crans"
SENDER = "alice@example.crans"
# (local part, display name, description, subject prefix, archive policy)
PUBLIC = ("causerie", "Causerie du Crans", "On y cause de tout.", "[Causerie] ", "public")
PRIVATE = ("bureau", "Bureau du Crans", "Les affaires du bureau.", "[Bureau] ", "private")
SETTLE_TIMEOUT = 90.0  # seconds for core's archiver and the task queue to finish


def create_list(core: MailmanCore, local_part, display_name, description, prefix, policy):
    client = core.client()
    try:
        domain = client.get_domain(DOMAIN)
    except Exception:  # noqa: BLE001 (404: not created yet)
        domain = client.create_domain(DOMAIN)
    mailing_list = domain.create_list(local_part)
    for key, value in (
        ("display_name", display_name),
        ("description", description),
        ("subject_prefix", prefix),
        ("archive_policy", policy),
    ):
        mailing_list.settings[key] = value
    mailing_list.settings.save()
    mailing_list.subscribe(
        SENDER, pre_verified=True, pre_confirmed=True, pre_approved=True, send_welcome_message=False
    )


def post(core: MailmanCore, local_part: str, number: int) -> None:
    message = EmailMessage()
    message["From"] = SENDER
    message["To"] = f"{local_part}@{DOMAIN}"
    message["Subject"] = f"Sujet numéro {number}"
    token = secrets.token_hex(4)
    message["Message-ID"] = f"<archiving.{local_part}.{number}.{token}@example.crans>"
    message.set_content(f"Message {number}.\n")
    core.post_by_lmtp(message)


def settle(what: str, condition: Callable[[], bool]) -> None:
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > SETTLE_TIMEOUT:
            pytest.fail(f"within {SETTLE_TIMEOUT:.0f} s: {what}")
        time.sleep(0.5)


def check_archives(
    environment: dict[str, str], tmp_path: Path, make_mailman_core, core_database_url: str
) -> None:
    """Start web and tasks with ``environment``, archive posts, check what the archives show."""
    port = free_port()
    site = f"http://{HOST}:{port}"
    archiver_key = secrets.token_urlsafe(24)
    core = make_mailman_core(
        core_database_url, archiver_base_url=f"{site}/archives/", archiver_key=archiver_key
    )
    environment = {
        **environment,
        "MAILMAN_WEB_DEBUG": "0",
        "MAILMAN_REST_API_URL": core.rest_url,
        "MAILMAN_REST_API_PASS": core.admin_pass,
        "MAILMAN_ARCHIVER_KEY": archiver_key,
    }
    web_log, tasks_log = tmp_path / "runserver.log", tmp_path / "qcluster.log"
    web = start_manage(web_server_command(port), environment, web_log)
    try:
        tasks = start_task_queue(environment, tasks_log)
        try:
            wait_for_http(f"{site}/accounts/login/", 60, web, web_log)
            for list_data in (PUBLIC, PRIVATE):
                create_list(core, *list_data)
            for number in range(3):
                for local_part, *_ in (PUBLIC, PRIVATE):
                    post(core, local_part, number)
            public_page = f"{site}/archives/list/{PUBLIC[0]}@{DOMAIN}/latest"
            private_page = f"{site}/archives/list/{PRIVATE[0]}@{DOMAIN}/"

            def everything_archived() -> bool:
                page = requests.get(public_page, timeout=30)
                return page.status_code == 200 and page.text.count("numéro") >= 3

            settle("the public list's 3 posts archived", everything_archived)
            settle(
                "the private list archived",
                lambda: requests.get(private_page, timeout=30).status_code != 404,
            )
            # Each post queued a task that reads the list from core; give the
            # last ones time to run, then read what stayed.
            settle(
                "the private list private to visitors (403)",
                lambda: requests.get(private_page, timeout=30).status_code == 403,
            )
            settle(
                "core's display name and description on /archives/",
                lambda: all(
                    text in requests.get(f"{site}/archives/", timeout=30).text
                    for text in (PUBLIC[1], PUBLIC[2])
                ),
            )
            time.sleep(3)  # the tasks of the last posts have run: nothing writes back
            index = requests.get(f"{site}/archives/", timeout=30).text
            assert PUBLIC[1] in index and PUBLIC[2] in index
            assert requests.get(private_page, timeout=30).status_code == 403
            threads = requests.get(public_page, timeout=30).text
            assert "Sujet numéro 1" in threads
            assert PUBLIC[3].strip() not in threads  # the prefix is stripped from titles
        finally:
            stop_process(tasks)
    finally:
        stop_process(web)
    for log in (web_log, tasks_log):
        assert "database is locked" not in log.read_text(errors="replace"), log
    # Tasks run in the cluster, not in the caller: no warning about sync tasks.
    assert "Preserving django database connections" not in tasks_log.read_text(errors="replace")


def test_on_sqlite_the_embedded_default(
    run_manage, manage_environment, tmp_path, make_mailman_core, core_database_url
):
    for command in ("migrate", "collectstatic --no-input", "compress"):
        run_manage(*command.split(), "--verbosity", "0")  # the demo's pages, compressed offline
    check_archives(manage_environment, tmp_path, make_mailman_core, core_database_url)


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_as_in_production(tmp_path, make_mailman_core, core_database_url):
    environment = {
        **{key: value for key, value in os.environ.items() if key != "MAILMAN_WEB_BASE_DIR"},
        "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.test",
        "MAILMAN_WEB_DB_NAME": connection.settings_dict["NAME"],
        "MAILMAN_WEB_LOCAL_DIR": str(tmp_path / "var"),
    }
    check_archives(environment, tmp_path, make_mailman_core, core_database_url)
