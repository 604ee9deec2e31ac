"""Single logout follows the session, not its key: attacks and flows against the real CAS server.

The CAS server (django-cas-server) POSTs a logout request naming the
member's service tickets when the member logs out of it. Whatever became of
the session's key since the CAS login (Django changes it at login, when a
password is set or changed, in any view that calls
``update_session_auth_hash``), and however the login completed (at once,
on the signup form, after confirming an address, by connecting the CAS
account to a logged-in account), that session ends; no other does.
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.core.checks import run_checks
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from allauth_cas_crans.models import ENDED, ENDED_KEPT, MAX_MARKS, ServiceTicket
from allauth_cas_crans.single_logout import SESSION_KEY
from devstack.cas_server import CasServer, CasUser
from tests.fixtures.cas_server import (
    ALICE,
    BOB,
    CAROL,
    Browser,
    come_back_at_once,
    local_account,
    log_in_locally,
    post_from,
    provider_settings,
    ticket_of,
)

User = get_user_model()
pytestmark = pytest.mark.usefixtures("crans_cas")
PASSWORD = "Correct-horse-battery-9"
NEW_PASSWORD = "Staple-grease-lantern-4"


def log_in(browser: Browser, next_url: str | None = None) -> str:
    """Log ``browser``'s member in through the CAS; return the service ticket."""
    callback_url = browser.log_in_at_cas(browser.start_login(next_url))
    response = browser.come_back(callback_url)
    assert response.status_code == 302, response.text
    return ticket_of(callback_url)


def log_out_of_cas(browser: Browser, cas: CasServer) -> None:
    """The member logs out of the CAS, which sends its logout requests."""
    assert browser.http.get(f"{cas.url}logout", timeout=30).status_code == 200


def set_password(browser: Browser) -> None:
    response = browser.submit(
        reverse("account_set_password"), {"password1": PASSWORD, "password2": PASSWORD}
    )
    assert response.status_code == 302, response.text


def change_password(browser: Browser) -> None:
    response = browser.submit(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.text


def change_password_in_the_admin(browser: Browser) -> None:
    """Django's own password change (the admin's): no allauth code runs."""
    User.objects.filter(username=browser.member.username.lower()).update(is_staff=True)
    response = browser.submit(
        reverse("admin:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302, response.text


def session_key(browser: Browser) -> str:
    return browser.http.cookies["sessionid"]


def mail_link(mailoutbox) -> str:
    """The path of the confirmation link in the last mail."""
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[-:\w]+/)", mailoutbox[-1].body)
    assert match, mailoutbox[-1].body
    return match.group(1)


def mail_code(mailoutbox) -> str:
    """The verification code in the last mail (a line of its own)."""
    match = re.search(
        r"^\s*([A-Z0-9]{2,}(?:-[A-Z0-9]{2,})*)\s*$", mailoutbox[-1].body, re.MULTILINE
    )
    assert match, mailoutbox[-1].body
    return match.group(1)


# Attack 4 of issue 20: the session key changed after the CAS login.


@pytest.mark.parametrize(
    "rotations",
    [
        [set_password],
        [set_password, change_password],
        [set_password, change_password_in_the_admin],
    ],
    ids=["password set", "password set then changed", "password changed in the admin"],
)
def test_single_logout_ends_a_session_whose_key_changed(site, crans_cas, rotations):
    browser = Browser(site, ALICE)
    log_in(browser)
    keys = [session_key(browser)]
    for rotate in rotations:
        rotate(browser)
        keys.append(session_key(browser))
    assert len(set(keys)) == len(keys)  # each step gave the session a new key
    assert browser.is_logged_in()

    log_out_of_cas(browser, crans_cas)

    assert not browser.is_logged_in()
    assert not Session.objects.filter(session_key__in=keys).exists()
    assert not ServiceTicket.objects.records().exists()


def test_cached_db_sessions_are_followed_too(site, settings):
    browser = Browser(site, ALICE)
    ticket = log_in(browser)
    # The live server's session middleware keeps the engine it started with
    # (db): the key changes here, through cached_db's store (its cache and rows).
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    session = store(session_key=session_key(browser))
    session.cycle_key()
    assert store().exists(session.session_key)

    assert post_from(site, "127.0.0.1", ticket) == 200

    assert not store().exists(session.session_key)
    assert not browser.is_logged_in()


def test_single_logout_ends_only_the_device_of_that_cas_session(site, crans_cas):
    laptop, phone = Browser(site, ALICE), Browser(site, ALICE)
    log_in(laptop)
    set_password(laptop)
    log_in(phone)  # its own CAS session

    log_out_of_cas(laptop, crans_cas)

    assert not laptop.is_logged_in()
    assert phone.is_logged_in()
    change_password(phone)
    log_out_of_cas(phone, crans_cas)
    assert not phone.is_logged_in()


def test_logging_in_again_through_the_cas_in_the_same_browser(site, crans_cas):
    browser = Browser(site, ALICE)
    first = log_in(browser)
    second = log_in(browser)
    set_password(browser)

    log_out_of_cas(browser, crans_cas)

    assert not browser.is_logged_in()
    assert not ServiceTicket.objects.records().filter(ticket__in=[first, second]).exists()


def test_four_tabs_logging_in_at_once_are_all_ended(site, crans_cas):
    """Four tabs of one browser come back from the CAS at once: four sessions, one CAS session."""
    tabs = [Browser(site, ALICE) for _ in range(4)]
    for tab in tabs[1:]:
        tab.http.cookies = tabs[0].http.cookies
    callback_urls = [tab.log_in_at_cas(tab.start_login()) for tab in tabs]
    for tab in tabs:
        tab.http.cookies = tabs[0].http.cookies.copy()
    come_back_at_once(tabs, callback_urls)
    assert all(tab.is_logged_in() for tab in tabs)
    assert len({session_key(tab) for tab in tabs}) == 4

    log_out_of_cas(tabs[0], crans_cas)

    assert not any(tab.is_logged_in() for tab in tabs)
    assert not ServiceTicket.objects.records().exists()


def test_session_forked_by_two_workers_is_ended_in_both(site, crans_cas):
    browser = Browser(site, ALICE)
    ticket = log_in(browser)
    key = session_key(browser)
    store = import_module(django_settings.SESSION_ENGINE).SessionStore
    # Two requests of one session change its key at the same moment: both
    # read the data before either deletes the old key.
    first, second = store(session_key=key), store(session_key=key)
    assert first.get(SESSION_KEY) == second.get(SESSION_KEY) == {ticket: "alice"}
    first.cycle_key()
    second.cycle_key()
    forks = {first.session_key, second.session_key}
    assert len(forks) == 2 and Session.objects.filter(session_key__in=forks).count() == 2

    assert post_from(site, "127.0.0.1", ticket) == 200

    assert not Session.objects.filter(session_key__in=forks | {key}).exists()


@pytest.mark.parametrize("engine", ["db", "cached_db"])
def test_session_getting_a_new_key_during_the_logout_request_ends_too(site, settings, engine):
    browser = Browser(site, ALICE)
    ticket = log_in(browser)
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    # A request of that session (a password change in another tab) has read
    # it when the logout request comes, and changes its key afterwards.
    running = store(session_key=session_key(browser))
    assert running.get(SESSION_KEY) == {ticket: "alice"}

    assert post_from(site, "127.0.0.1", ticket) == 200
    running.cycle_key()

    assert not Session.objects.filter(session_key=running.session_key).exists()
    assert not ServiceTicket.objects.records().exists()
    # Its own save at the end of the request fails: its browser never gets the new key.
    with pytest.raises(UpdateError):
        running.save()
    assert not browser.is_logged_in()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Your Crans CAS session ended while you were signing in"),
        ("fr", "Votre session du CAS du Crans a pris fin pendant votre connexion"),
    ],
)
def test_logout_request_during_the_validation_ends_the_login(site, language, message):
    browser = Browser(site, ALICE)
    browser.http.headers["Accept-Language"] = language
    callback_url = browser.log_in_at_cas(browser.start_login("/accounts/email/"))
    # The CAS's logout request comes while mailman-web validates the ticket.
    assert post_from(site, "127.0.0.1", ticket_of(callback_url)) == 200

    response = browser.come_back(callback_url)

    assert response.status_code == 302
    assert not browser.is_logged_in()
    assert not ServiceTicket.objects.records().exists()
    page = browser.http.get(site + response.headers["Location"], timeout=30)
    assert message in page.text


def test_logout_request_during_the_validation_ends_a_pending_signup(site, settings, crans_cas):
    settings.SOCIALACCOUNT_AUTO_SIGNUP = False
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    assert post_from(site, "127.0.0.1", ticket_of(callback_url)) == 200

    assert browser.come_back(callback_url).headers["Location"] == reverse("socialaccount_signup")

    assert browser.get(reverse("socialaccount_signup")).status_code == 302
    assert not User.objects.exists()


def test_logout_request_marks_a_bounded_number_of_tickets(site):
    # A ticket too long to record first, then 30 tickets.
    tickets = [f"ST-{'x' * 300}", *(f"ST-{n}" for n in range(30))]
    indexes = "".join(f"<samlp:SessionIndex>{ticket}</samlp:SessionIndex>" for ticket in tickets)
    logout = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
        f'Version="2.0">{indexes}</samlp:LogoutRequest>'
    )
    response = requests.post(
        site + reverse("crans_callback"), data={"logoutRequest": logout}, timeout=30
    )

    assert response.status_code == 200
    assert set(ServiceTicket.objects.marks().values_list("ticket", flat=True)) == {
        f"ST-{n}" for n in range(MAX_MARKS)
    }


def test_records_of_sessions_that_are_over_are_purged(site):
    browser = Browser(site, ALICE)
    ticket = log_in(browser)
    old = session_key(browser)
    set_password(browser)
    assert set(ServiceTicket.objects.values_list("ticket", "session_key")) == {
        (ticket, old),
        (ticket, session_key(browser)),
    }
    expired = log_in(Browser(site, CAROL))
    Session.objects.filter(
        session_key=ServiceTicket.objects.get(ticket=expired).session_key
    ).update(expire_date=timezone.now() - timedelta(seconds=1))

    post_from(browser.site, "127.0.0.1", "ST-ended-long-ago")
    post_from(browser.site, "127.0.0.1", "ST-ended-now")
    ServiceTicket.objects.filter(ticket="ST-ended-long-ago").update(
        created=timezone.now() - timedelta(seconds=ENDED_KEPT + 1)
    )

    assert ServiceTicket.objects.purge() == 3

    assert set(ServiceTicket.objects.values_list("ticket", "session_key")) == {
        (ticket, session_key(browser)),
        ("ST-ended-now", ENDED),
    }


# Logins that complete later: the ticket waits in the session.


def test_login_completed_on_the_signup_form(site, settings, crans_cas):
    settings.SOCIALACCOUNT_AUTO_SIGNUP = False
    browser = Browser(site, ALICE)
    response = browser.come_back(browser.log_in_at_cas(browser.start_login()))
    assert response.headers["Location"] == reverse("socialaccount_signup")
    assert not browser.is_logged_in()

    signup = browser.submit(
        reverse("socialaccount_signup"), {"email": ALICE.email, "username": "alice"}
    )

    assert signup.status_code == 302, signup.text
    assert browser.is_logged_in()
    set_password(browser)
    log_out_of_cas(browser, crans_cas)
    assert not browser.is_logged_in()


def test_cas_logout_before_the_signup_form_is_sent_ends_the_pending_login(
    site, settings, crans_cas
):
    settings.SOCIALACCOUNT_AUTO_SIGNUP = False
    browser = Browser(site, ALICE)
    browser.come_back(browser.log_in_at_cas(browser.start_login()))
    assert browser.get(reverse("socialaccount_signup")).status_code == 200

    log_out_of_cas(browser, crans_cas)

    # The CAS account's pending signup went with the session.
    assert browser.get(reverse("socialaccount_signup")).status_code == 302
    assert not User.objects.exists()
    assert not browser.is_logged_in()


def test_login_completed_by_the_confirmation_link(site, settings, crans_cas, mailoutbox):
    settings.ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
    browser = Browser(site, BOB)  # no address from the CAS: bob@crans.org, to confirm
    response = browser.come_back(browser.log_in_at_cas(browser.start_login()))
    assert response.headers["Location"] == reverse("account_email_verification_sent")
    assert not browser.is_logged_in()

    confirmed = browser.submit(mail_link(mailoutbox), {})

    assert confirmed.status_code == 302, confirmed.text
    assert browser.is_logged_in()
    log_out_of_cas(browser, crans_cas)
    assert not browser.is_logged_in()


def test_login_completed_by_the_confirmation_code(site, settings, crans_cas, mailoutbox):
    settings.ACCOUNT_EMAIL_VERIFICATION_BY_CODE_ENABLED = True
    browser = Browser(site, BOB)
    response = browser.come_back(browser.log_in_at_cas(browser.start_login()))
    assert response.headers["Location"] == reverse("account_email_verification_sent")
    assert not browser.is_logged_in()

    confirmed = browser.submit(
        reverse("account_email_verification_sent"), {"code": mail_code(mailoutbox)}
    )

    assert confirmed.status_code == 302, confirmed.text
    assert browser.is_logged_in()
    set_password(browser)
    log_out_of_cas(browser, crans_cas)
    assert not browser.is_logged_in()


def test_first_login_connected_through_a_verified_address(site, crans_cas):
    local = local_account("cann", "carol@example.org", verified=True)
    browser = Browser(site, CAROL)
    log_in(browser)
    assert SocialAccount.objects.get(uid="carol").user == local
    before = session_key(browser)
    changed = browser.submit(
        reverse("account_change_password"),
        {"oldpassword": "cann-password", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert changed.status_code == 302 and session_key(browser) != before

    log_out_of_cas(browser, crans_cas)

    assert not browser.is_logged_in()


def test_cas_account_connected_from_the_connections_page(site, crans_cas, cas_member):
    staff = local_account("ynerant", "ynerant@example.org", verified=True, is_staff=True)
    browser = Browser(site, cas_member(CasUser("ynerant", "ynerant-password")))
    log_in_locally(browser, "ynerant")
    query = "process=connect&next=/accounts/3rdparty/"
    cas_login_url = browser.get(f"{reverse('crans_login')}?{query}").headers["Location"]
    response = browser.come_back(browser.log_in_at_cas(cas_login_url))
    assert response.headers["Location"] == "/accounts/3rdparty/"
    assert SocialAccount.objects.get(uid="ynerant").user == staff

    log_out_of_cas(browser, crans_cas)

    assert not browser.is_logged_in()


# A ticket ends its own member's sessions, no other.


def test_another_login_in_the_browser_drops_a_pending_ticket(site, settings, crans_cas):
    settings.SOCIALACCOUNT_AUTO_SIGNUP = False
    local_account("eve", "eve@example.net", verified=True)
    browser = Browser(site, CAROL)
    browser.come_back(browser.log_in_at_cas(browser.start_login()))  # carol's signup waits
    log_in_locally(browser, "eve")
    eve_session = session_key(browser)

    log_out_of_cas(browser, crans_cas)  # carol's CAS session ends

    assert browser.is_logged_in()
    assert Session.objects.filter(session_key=eve_session).exists()
    assert not ServiceTicket.objects.records().exists()


def test_refused_connection_leaves_no_ticket_in_the_session(site, crans_cas):
    log_in(Browser(site, ALICE))  # the CAS account alice has its account
    local_account("eve", "eve@example.net", verified=True)
    browser = Browser(site, ALICE)
    log_in_locally(browser, "eve")
    query = "process=connect&next=/accounts/3rdparty/"
    cas_login_url = browser.get(f"{reverse('crans_login')}?{query}").headers["Location"]
    browser.come_back(browser.log_in_at_cas(cas_login_url))
    assert SocialAccount.objects.get(uid="alice").user.username == "alice"

    log_out_of_cas(browser, crans_cas)

    assert browser.is_logged_in()


def test_ticket_too_long_to_record_still_logs_in(site, settings, tmp_path, caplog):
    # The CAS protocol asks services to take tickets of 256 characters; this CAS issues 300.
    with CasServer(tmp_path / "cas", users=[ALICE], ticket_length=300) as cas:
        settings.SOCIALACCOUNT_PROVIDERS = {"crans": provider_settings(cas)}
        browser = Browser(site, ALICE)
        callback_url = browser.log_in_at_cas(browser.start_login())
        assert len(ticket_of(callback_url)) > 256

        assert browser.come_back(callback_url).status_code == 302

    assert browser.is_logged_in()
    assert not ServiceTicket.objects.records().exists()
    assert "longer than 256 characters: no single logout" in caplog.text


# A site upgraded with sessions opened before.


@pytest.fixture
def migrated_back():
    """The schema of 0001 (one row per ticket), then migrated forward by the test."""
    executor = MigrationExecutor(connection)
    executor.migrate([("allauth_cas_crans", "0001_initial")])
    yield executor.loader.project_state(("allauth_cas_crans", "0001_initial")).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("allauth_cas_crans"))


def test_migration_keeps_sessions_opened_before_it(site, migrated_back):
    alice = User.objects.create_user("alice", ALICE.email)
    client = Client()
    client.force_login(alice, backend="django.contrib.auth.backends.ModelBackend")
    key = client.cookies["sessionid"].value
    expiry = Session.objects.get(session_key=key).expire_date
    OldServiceTicket = migrated_back.get_model("allauth_cas_crans", "ServiceTicket")
    OldServiceTicket.objects.create(ticket="ST-before-the-upgrade", session_key=key)
    OldServiceTicket.objects.create(ticket="ST-of-a-gone-session", session_key="gone")

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("allauth_cas_crans"))

    session = Session.objects.get(session_key=key)
    assert session.expire_date == expiry
    assert session.get_decoded()[SESSION_KEY] == {"ST-before-the-upgrade": None}
    assert ServiceTicket.objects.count() == 2
    browser = Browser(site, ALICE)
    browser.http.cookies.set("sessionid", key, domain="127.0.0.1", path="/")
    assert browser.is_logged_in()
    set_password(browser)
    assert session_key(browser) != key
    # The ticket is no longer unique: recorded under both keys.
    assert set(
        ServiceTicket.objects.filter(ticket="ST-before-the-upgrade").values_list(
            "session_key", flat=True
        )
    ) == {key, session_key(browser)}

    assert post_from(site, "127.0.0.1", "ST-before-the-upgrade") == 200

    assert not browser.is_logged_in()


def test_migration_reads_cached_db_sessions_through_their_cache(site, settings, migrated_back):
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    store = import_module(settings.SESSION_ENGINE).SessionStore
    client = Client()  # its session is cached_db's: in the cache and in a row
    client.force_login(
        User.objects.create_user("alice", ALICE.email),
        backend="django.contrib.auth.backends.ModelBackend",
    )
    key = client.cookies["sessionid"].value
    OldServiceTicket = migrated_back.get_model("allauth_cas_crans", "ServiceTicket")
    OldServiceTicket.objects.create(ticket="ST-before-the-upgrade", session_key=key)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("allauth_cas_crans"))

    session = store(session_key=key)
    assert session[SESSION_KEY] == {"ST-before-the-upgrade": None}
    session.cycle_key()
    assert post_from(site, "127.0.0.1", "ST-before-the-upgrade") == 200
    assert not store().exists(session.session_key)


# Session engines that single logout cannot follow.


@pytest.mark.parametrize(
    ("engine", "warning"),
    [
        ("django.contrib.sessions.backends.db", None),
        ("django.contrib.sessions.backends.cached_db", None),
        ("django.contrib.sessions.backends.cache", "allauth_cas_crans.W003"),
        ("django.contrib.sessions.backends.file", "allauth_cas_crans.W003"),
        ("django.contrib.sessions.backends.signed_cookies", "allauth_cas_crans.W004"),
    ],
)
def test_session_engine_check(settings, crans_cas, engine, warning):
    settings.SESSION_ENGINE = engine
    found = {message.id for message in run_checks() if message.id.startswith("allauth_cas_crans")}
    assert found - {"allauth_cas_crans.W002"} == ({warning} if warning else set())

    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": provider_settings(crans_cas, LOGOUT_REQUEST_ADDRESSES=[])
    }
    found = {message.id for message in run_checks() if message.id.startswith("allauth_cas_crans")}
    assert found - {"allauth_cas_crans.W002"} == set()
