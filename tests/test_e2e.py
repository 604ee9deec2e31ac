"""The whole stack end to end, in headless Chromium: what the demo shows, proven in CI.

The services are those of the demo (devstack/demo.py), started by the same
functions on free ports: an SMTP sink, Mailman core 3.3.10 on its own
PostgreSQL database, the CAS server, mailman-web's task queue, and mailman-web
itself as pytest-django's live server on the test database. The demo lists
are created and the demo messages archived for real (core's LMTP, core's
archiver, hyperkitty's API). Then a member logs in through the CAS, subscribes
in postorius, posts, reads the archive; core is stopped, ``rename_list``
renames the list on both sides, core starts again, and the list must have its
members, archive, search results and footer under the new name; the old
URLs (list, message, postorius) answer 301 to the new ones in the browser, and a
reply sent to the old address, routed by the Postfix map that rename_list
writes, reaches the members and the archive without being held.
Screenshots of each step go to test-artifacts/e2e-*.png.
"""

from __future__ import annotations

import os
import secrets
import smtplib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from io import StringIO
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from hyperkitty.models import Email, MailingList
from playwright.sync_api import expect

from devstack.cas_server import CasServer
from devstack.core import MailmanCore, SMTPSink
from devstack.demo import (
    BOB,
    CAS_MEMBERS,
    DISCUSSION,
    FOOTER_TEMPLATE,
    LISTS,
    MAIL_DOMAIN,
    SUBSCRIBERS,
    bare_id,
    create_lists,
    demo_messages,
    index_archives,
    post_messages,
    set_footers,
    set_site,
    start_core,
    start_task_queue,
    wait_until_archived,
)
from devstack.processes import LOOPBACK, free_port, stop_process, wait_until
from tests.fixtures.browser import WatchedPage, origin, screenshot

pytestmark = pytest.mark.e2e

NEW_NAME = "causerie"
NEW_ADDRESS = f"{NEW_NAME}@{MAIL_DOMAIN}"
NEW_LIST_ID = f"{NEW_NAME}.{MAIL_DOMAIN}"
# A word that only the member's post holds, to search for.
WORD = "zorglub"


@dataclass
class Stack:
    site: str
    core: MailmanCore
    cas: CasServer
    sink: SMTPSink
    passwords: dict[str, str]
    demo_ids: list[str]  # Message-IDs of the demo messages


@pytest.fixture
def stack(
    live_server, settings, search_index, tmp_path, mailman_core_venv, core_database_url
) -> Iterator[Stack]:
    # On 127.0.0.1 like the demo and the CAS server (allowed by its service pattern).
    site = f"http://127.0.0.1:{live_server.thread.port}"
    archiver_key = secrets.token_urlsafe(24)
    passwords = {person.username: secrets.token_urlsafe(9) for person in CAS_MEMBERS}
    # django_mailman3 caches Mailman user ids and subscriptions in this
    # process's cache: none may come from another test's Mailman core.
    cache.clear()
    with ExitStack() as running:
        sink = running.enter_context(SMTPSink(tmp_path / "sent-mail", free_port()))
        core = MailmanCore(
            tmp_path / "core",
            core_database_url,
            sink.port,
            archiver_base_url=f"{site}/archives/",
            archiver_key=archiver_key,
            venv=mailman_core_venv,
        )
        running.callback(core.stop)
        cas = CasServer(
            tmp_path / "cas",
            users=[person.cas_user(passwords[person.username]) for person in CAS_MEMBERS],
        )
        running.callback(cas.stop)
        # As in the demo: the CAS server starts while core's REST API wakes up.
        with ThreadPoolExecutor(max_workers=1) as pool:
            core_started = pool.submit(start_core, core)
            cas.start()
            core_started.result()
        settings.MAILMAN_REST_API_URL = core.rest_url
        settings.MAILMAN_REST_API_PASS = core.admin_pass
        settings.MAILMAN_ARCHIVER_KEY = archiver_key
        settings.POSTORIUS_TEMPLATE_BASE_URL = f"{site}/"
        settings.SOCIALACCOUNT_PROVIDERS = {
            "crans": {**settings.SOCIALACCOUNT_PROVIDERS["crans"], "SERVER_URL": cas.url}
        }
        tasks = start_task_queue(
            {
                **{
                    key: value for key, value in os.environ.items() if key != "MAILMAN_WEB_BASE_DIR"
                },
                "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.test",
                "MAILMAN_WEB_DB_NAME": connection.settings_dict["NAME"],
                "MAILMAN_WEB_LOCAL_DIR": str(tmp_path / "tasks"),
                "MAILMAN_REST_API_URL": core.rest_url,
                "MAILMAN_REST_API_PASS": core.admin_pass,
            },
            tmp_path / "qcluster.log",
        )
        running.callback(stop_process, tasks)
        set_site(f"127.0.0.1:{live_server.thread.port}")
        create_lists(core.client())
        set_footers()
        messages = demo_messages()
        assert post_messages(core, messages) == messages
        demo_ids = [bare_id(message) for message in messages]
        wait_until_archived(demo_ids, logs=[core.log_file])
        index_archives()
        yield Stack(site, core, cas, sink, passwords, demo_ids)


def delivered(sink: SMTPSink, message_id: str) -> EmailMessage | None:
    """The copy of ``message_id`` that core sent to the list's members, once it has."""
    for message in sink.messages():
        if message["Message-ID"] == f"<{message_id}>":
            return message
    return None


def body(message) -> str:
    return message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")


def footer(stack: Stack, display_name: str, address: str) -> str:
    """The start of the footer core adds, with the message's permalink (set_footers)."""
    return (
        f"-- \nListe {display_name} du Crans (démo)\n"
        f"Archives : {archives_origin(stack)}/archives/list/{address}/message/"
    )


def archives_origin(stack: Stack) -> str:
    """Where links in mail lead: the Site that the mail domain is mapped to (hyperkitty: https)."""
    return f"https://{urlsplit(stack.site).netloc}"


def post(stack: Stack, number: int, address: str, subject: str) -> str:
    """Post a message of Bob's to ``address`` through core's LMTP; return its Message-ID."""
    message = EmailMessage()
    message["From"] = formataddr((BOB.full_name, BOB.email))
    message["To"] = address
    message["Subject"] = subject
    message["Message-ID"] = f"<e2e-{number}@{BOB.email.partition('@')[2]}>"
    message.set_content(f"Le compte rendu {WORD} de la réunion numéro {number}.\n\nBob\n")
    stack.core.post_by_lmtp(message)
    return bare_id(message)


def shot(page: WatchedPage, name: str) -> Path:
    return screenshot(page.page, f"e2e-{name}")


def log_in_through_cas(page: WatchedPage, stack: Stack) -> None:
    page.goto("/accounts/login/")
    shot(page, "01-login-page")
    page.page.click("a.crans-login-button")
    page.page.wait_for_url(f"{stack.cas.url}login?*")
    page.page.fill("#id_username", BOB.username)
    page.page.fill("#id_password", stack.passwords[BOB.username])
    shot(page, "02-cas-login-form")
    page.page.click("#login_form button[type=submit]")
    page.page.wait_for_url(f"{stack.site}/**")
    page.page.wait_for_load_state("networkidle")
    shot(page, "03-logged-in")


def old_address_route(alias_map: Path) -> dict[str, str]:
    """What Postfix's virtual_alias_maps does with the map that rename_list wrote."""
    lines = alias_map.read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines if line and not line.startswith("#"))


def subscribe_post_and_read(page: WatchedPage, stack: Stack) -> tuple[str, str]:
    """Bob logs in through the CAS, subscribes, posts and finds his post.

    Returns the Message-ID of his post and its permalink, as its footer gave it.
    """
    log_in_through_cas(page, stack)
    expect(page.page.locator(".alert-success")).to_contain_text(
        f"Successfully signed in as {BOB.username}"
    )
    account = SocialAccount.objects.get(provider="crans", uid=BOB.username)
    assert EmailAddress.objects.filter(user=account.user, email=BOB.email, verified=True).exists()

    page.goto(f"/postorius/lists/{DISCUSSION.list_id}/")
    shot(page, "04-list-before-subscribing")
    page.page.get_by_role("button", name="Subscribe").click()
    page.page.wait_for_load_state("networkidle")
    expect(page.page.locator(".alert-success")).to_contain_text(
        f"You are subscribed to {DISCUSSION.address}"
    )
    shot(page, "05-subscribed")
    assert stack.core.client().get_list(DISCUSSION.address).is_member(BOB.email)

    # He posts by LMTP: core delivers it with the list's footer, hyperkitty archives it.
    first = post(stack, 1, DISCUSSION.address, "Compte rendu de la réunion")
    wait_until_archived([first], logs=[stack.core.log_file])
    copy = wait_until(lambda: delivered(stack.sink, first), "core delivers the post")
    assert {*copy["X-RcptTo"].split(", ")} == {p.email for p in (*SUBSCRIBERS, BOB)}
    assert footer(stack, "Discussion", DISCUSSION.address) in body(copy)
    page.goto(f"/archives/list/{DISCUSSION.address}/")
    expect(page.page.locator("body")).to_contain_text("Compte rendu de la réunion")
    expect(page.page.locator("body")).to_contain_text("Panne du wifi au bâtiment J")
    shot(page, "06-archive-of-the-list")
    page.page.get_by_role("link", name="Compte rendu de la réunion").first.click()
    page.page.wait_for_load_state("networkidle")
    expect(page.page.locator("body")).to_contain_text(f"Le compte rendu {WORD} de la réunion")
    shot(page, "07-archived-message")

    # hyperkitty's hourly job indexes it; the search finds it.
    index_archives()
    page.goto(f"/archives/search?mlist={DISCUSSION.address}&q={WORD}")
    expect(page.page.locator("body")).to_contain_text("Compte rendu de la réunion")
    shot(page, "08-search-before-renaming")

    permalink = body(copy).split(archives_origin(stack), 1)[1].split()[0]
    assert permalink.startswith(f"/archives/list/{DISCUSSION.address}/message/")
    return first, permalink


def rename_with_core_stopped(stack: Stack, alias_map: Path, monkeypatch) -> None:
    """Core stops; ``rename_list`` renames the list on both sides; core starts again."""
    stack.core.stop()
    output = StringIO()
    monkeypatch.setenv("CRANS_MAILMAN_CORE_DB_URL", stack.core.database_url)
    call_command(
        "rename_list",
        DISCUSSION.address,
        NEW_ADDRESS,
        "--core-var-dir",
        str(stack.core.var_dir),
        "--alias-map",
        str(alias_map),
        stdout=output,
    )
    assert f"Renamed {DISCUSSION.address} to {NEW_ADDRESS}" in output.getvalue()
    assert f"{DISCUSSION.address} {NEW_ADDRESS}" in output.getvalue()
    stack.core.start()


def check_core_serves_the_new_name(stack: Stack) -> None:
    """Core: the members, the footer's template, and no old list."""
    renamed = stack.core.client().get_list(NEW_ADDRESS)
    assert {member.email for member in renamed.members} == {p.email for p in (*SUBSCRIBERS, BOB)}
    with pytest.raises(HTTPError) as missing:
        stack.core.client().get_list(DISCUSSION.address)
    assert missing.value.code == 404
    assert {mlist.fqdn_listname for mlist in stack.core.client().lists} == {
        *(demo_list.address for demo_list in LISTS if demo_list != DISCUSSION),
        NEW_ADDRESS,
    }
    footer_url = {template.name: template.uri for template in renamed.templates}[FOOTER_TEMPLATE]
    assert footer_url.startswith(stack.site)
    assert footer_url.endswith(f"/api/templates/list/{NEW_LIST_ID}/{FOOTER_TEMPLATE}")
    assert requests.get(footer_url, timeout=10).text.startswith("-- \nListe $display_name")


def check_new_posts_and_pages(page: WatchedPage, stack: Stack) -> None:
    """A new post is delivered and archived under the new name; the pages show it."""
    second = post(stack, 2, NEW_ADDRESS, "Compte rendu de la réunion suivante")
    wait_until_archived([second], logs=[stack.core.log_file])
    copy = wait_until(lambda: delivered(stack.sink, second), "core delivers the post")
    assert copy["List-Id"].endswith(f"<{NEW_LIST_ID}>")
    assert footer(stack, "Causerie", NEW_ADDRESS) in body(copy)
    # Archived with the others: no new, empty list in hyperkitty.
    archive = MailingList.objects.get(name=NEW_ADDRESS)
    assert not MailingList.objects.filter(name=DISCUSSION.address).exists()
    demo_count = sum(1 for message_id in stack.demo_ids if ".discussion." in message_id)
    assert Email.objects.filter(mailinglist=archive).count() == demo_count + 2

    page.goto(f"/archives/list/{NEW_ADDRESS}/")
    expect(page.page.locator("body")).to_contain_text("Causerie")
    expect(page.page.locator("body")).to_contain_text("Panne du wifi au bâtiment J")
    expect(page.page.locator("body")).to_contain_text("Compte rendu de la réunion suivante")
    shot(page, "09-archive-after-renaming")
    page.goto(f"/archives/search?mlist={NEW_ADDRESS}&q={WORD}")
    expect(page.page.locator("body")).to_contain_text("Compte rendu de la réunion")
    shot(page, "10-search-after-renaming")
    page.goto(f"/postorius/lists/{NEW_LIST_ID}/")
    expect(page.page.locator("body")).to_contain_text(BOB.email)
    expect(page.page.locator("body")).to_contain_text("Unsubscribe")
    shot(page, "11-list-after-renaming")


def check_old_links_redirect(page: WatchedPage, stack: Stack, permalink: str) -> None:
    """Old links still reach the list: 301 to the same page under the new name."""
    for old, new, text in (
        (f"/archives/list/{DISCUSSION.address}/", f"/archives/list/{NEW_ADDRESS}/", "Causerie"),
        (permalink, permalink.replace(DISCUSSION.address, NEW_ADDRESS), WORD),
        (f"/postorius/lists/{DISCUSSION.list_id}/", f"/postorius/lists/{NEW_LIST_ID}/", BOB.email),
    ):
        answer = requests.get(f"{stack.site}{old}", allow_redirects=False, timeout=30)
        assert (answer.status_code, answer.headers["Location"]) == (301, new), old
        response = page.goto(old)
        assert response.url == f"{stack.site}{new}", old
        assert response.request.redirected_from.url == f"{stack.site}{old}"
        expect(page.page.locator("body")).to_contain_text(text)
    shot(page, "12-old-link-redirected")


def check_old_address_reaches_the_list(stack: Stack, alias_map: Path, first: str) -> None:
    """Bob replies at the old address: core accepts it as an alias, Postfix routes it."""
    renamed = stack.core.client().get_list(NEW_ADDRESS)
    assert renamed.settings["acceptable_aliases"] == [DISCUSSION.address]
    route = old_address_route(alias_map)
    assert route[DISCUSSION.address] == NEW_ADDRESS
    assert route[DISCUSSION.address.replace("@", "-owner@")] == NEW_ADDRESS.replace("@", "-owner@")
    reply = EmailMessage()
    reply["From"] = formataddr((BOB.full_name, BOB.email))
    reply["To"] = DISCUSSION.address
    reply["Subject"] = "Re: Compte rendu de la réunion"
    reply["Message-ID"] = f"<e2e-3@{BOB.email.partition('@')[2]}>"
    reply["In-Reply-To"] = f"<{first}>"
    reply.set_content("Une réponse envoyée à l'ancienne adresse.\n\nBob\n")
    with smtplib.LMTP(LOOPBACK, stack.core.lmtp_port) as lmtp:
        lmtp.send_message(reply, to_addrs=[route[DISCUSSION.address]])
    third = bare_id(reply)
    wait_until_archived([third], logs=[stack.core.log_file])
    delivered_reply = wait_until(lambda: delivered(stack.sink, third), "core delivers the reply")
    assert {*delivered_reply["X-RcptTo"].split(", ")} == {p.email for p in (*SUBSCRIBERS, BOB)}
    assert len(renamed.held) == 0
    archive = MailingList.objects.get(name=NEW_ADDRESS)
    assert Email.objects.filter(mailinglist=archive, message_id=third).exists()


def test_member_subscribes_posts_reads_and_the_list_is_renamed(
    stack: Stack, browser_page, monkeypatch, tmp_path
):
    page = browser_page(stack.site)
    # The CAS login page is the only other host the browser may reach.
    cas_origin = origin(stack.cas.url)
    page.page.route(lambda url: origin(url) == cas_origin, lambda route: route.continue_())
    alias_map = tmp_path / "renamed-lists"

    first, permalink = subscribe_post_and_read(page, stack)
    rename_with_core_stopped(stack, alias_map, monkeypatch)
    check_core_serves_the_new_name(stack)
    check_new_posts_and_pages(page, stack)
    check_old_links_redirect(page, stack, permalink)
    check_old_address_reaches_the_list(stack, alias_map, first)
    problems = page.problems()
    assert not problems, "\n".join(problems)
