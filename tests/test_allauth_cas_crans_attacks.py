"""Attacks on the CAS login, each tried against the real CAS server and PostgreSQL.

A first CAS login never lands in an account that another person set up, nor
in an administrator's; a slow or huge CAS answer holds no worker; odd CAS
usernames give an account or an error page; single-logout requests count
only from the CAS server's addresses.
"""

from __future__ import annotations

import socketserver
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from devstack.cas_server import CasServer, CasUser
from tests.fixtures.cas_server import (
    ALICE,
    CAROL,
    Browser,
    assert_error_page,
    local_account,
    log_in_locally,
    logout_request,
    post_from,
    provider_settings,
    ticket_of,
)
from tests.fixtures.loopback import serving

User = get_user_model()
pytestmark = pytest.mark.usefixtures("crans_cas")
MALLORY = CasUser("mallory", "mallory-password", "mallory@example.org", "Mal", "Lory")
NOT_CONNECTED = "not connected automatically"


def trust(settings, crans_cas: CasServer, domains: list[str]) -> None:
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": provider_settings(crans_cas, VERIFIED_EMAIL=domains)
    }


# 1. Capture before first login.


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted domain", "untrusted domain"])
def test_address_added_unverified_by_someone_else_does_not_capture_the_first_login(
    site, settings, crans_cas, trusted
):
    eve = local_account("eve", "eve@example.net", verified=True)
    EmailAddress.objects.create(user=eve, email="carol@example.org", verified=False)
    trust(settings, crans_cas, ["example.org"] if trusted else [])

    Browser(site, CAROL).log_in()

    carol = SocialAccount.objects.get(uid="carol").user
    assert carol != eve
    assert not SocialAccount.objects.filter(user=eve).exists()
    eve.refresh_from_db()
    assert eve.has_usable_password()
    # The address stays where it was (unverified), and goes nowhere else.
    assert list(
        EmailAddress.objects.filter(email="carol@example.org").values_list("user", "verified")
    ) == [(eve.pk, False)]
    assert list(EmailAddress.objects.filter(user=carol).values_list("email", flat=True)) == [
        "carol@crans.org"
    ]


def test_local_account_that_verified_the_trusted_address_is_connected(site):
    local = local_account("cann", "carol@example.org", verified=True)
    browser = Browser(site, CAROL)

    response = browser.log_in("/accounts/email/")

    assert response.headers["Location"] == "/accounts/email/"
    assert browser.is_logged_in()
    assert list(User.objects.all()) == [local]
    assert SocialAccount.objects.get(uid="carol").user == local
    local.refresh_from_db()
    assert local.has_usable_password()


def test_local_account_is_not_connected_through_an_untrusted_address(
    site, settings, crans_cas, mailoutbox
):
    local = local_account("cann", "carol@example.org", verified=True)
    trust(settings, crans_cas, [])

    response = Browser(site, CAROL).log_in()

    carol = SocialAccount.objects.get(uid="carol").user
    assert carol != local
    assert list(EmailAddress.objects.filter(user=carol).values_list("email", "verified")) == [
        ("carol@crans.org", False)
    ]
    # allauth asks the member to confirm the address before the first login.
    assert response.headers["Location"] == reverse("account_email_verification_sent")
    assert [message.to for message in mailoutbox] == [["carol@crans.org"]]


# 2. The CAS mail attribute is not trusted blindly.


@pytest.mark.parametrize("trusted", [True, False], ids=["trusted domain", "untrusted domain"])
def test_cas_account_with_a_superuser_address_never_logs_in_as_the_superuser(
    site, settings, crans_cas, cas_member, trusted
):
    root = local_account("root", "root@example.org", verified=True, is_staff=True)
    root.is_superuser = True
    root.save()
    mallory = cas_member(CasUser("mallory", "mallory-password", "root@example.org"))
    trust(settings, crans_cas, ["example.org", "crans.org"] if trusted else ["crans.org"])
    browser = Browser(site, mallory)

    response = browser.log_in()

    assert not SocialAccount.objects.filter(user=root).exists()
    assert browser.get("/admin/").status_code == 302
    if trusted:
        assert_error_page(response, NOT_CONNECTED)
        assert not browser.is_logged_in()
        assert list(User.objects.all()) == [root]
    else:
        assert browser.is_logged_in()
        account = SocialAccount.objects.get(uid="mallory").user
        assert list(EmailAddress.objects.filter(user=account).values_list("email", flat=True)) == [
            "mallory@crans.org"
        ]


def test_staff_connects_the_cas_account_from_the_connections_page(
    site, settings, crans_cas, cas_member
):
    staff = local_account("ynerant", "ynerant@example.org", verified=True, is_staff=True)
    member = cas_member(CasUser("ynerant", "ynerant-password", "ynerant@example.org"))
    browser = Browser(site, member)
    assert_error_page(browser.log_in(), NOT_CONNECTED)
    assert not SocialAccount.objects.exists()

    log_in_locally(browser, "ynerant")
    query = urlencode({"process": "connect", "next": "/accounts/3rdparty/"})
    cas_login_url = browser.get(f"{reverse('crans_login')}?{query}").headers["Location"]
    response = browser.come_back(browser.log_in_at_cas(cas_login_url))

    assert response.status_code == 302
    assert SocialAccount.objects.get(uid="ynerant").user == staff


def test_cas_account_with_another_members_address_does_not_join_their_account(site, cas_member):
    assert Browser(site, ALICE).log_in().status_code == 302
    alice = User.objects.get(username="alice")
    mallory = cas_member(CasUser("mallory", "mallory-password", ALICE.email))

    response = Browser(site, mallory).log_in()

    # alice@example.org is trusted in these tests: alice's account already has its CAS account.
    assert_error_page(response, NOT_CONNECTED)
    assert list(SocialAccount.objects.values_list("uid", "user")) == [("alice", alice.pk)]


def test_cas_addresses_are_verified_only_in_the_trusted_domains(
    site, settings, crans_cas, mailoutbox
):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {"SERVER_URL": crans_cas.url}}  # the defaults

    response = Browser(site, ALICE).log_in()

    address = EmailAddress.objects.get()
    assert (address.email, address.verified) == ("alice@example.org", False)
    assert response.headers["Location"] == reverse("account_email_verification_sent")
    assert [message.to for message in mailoutbox] == [["alice@example.org"]]


def test_member_without_cas_address_gets_the_trusted_crans_address(site, settings, crans_cas):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {"SERVER_URL": crans_cas.url}}  # the defaults
    browser = Browser(site, CasUser("bob", "bob-password"))

    assert browser.log_in("/accounts/email/").headers["Location"] == "/accounts/email/"

    assert browser.is_logged_in()
    address = EmailAddress.objects.get()
    assert (address.email, address.verified, address.primary) == ("bob@crans.org", True, True)


# 5. CAS validation ends by a deadline and reads a bounded answer.


class BadCas(socketserver.BaseRequestHandler):
    """A CAS server that answers the way ``server.behaviour`` says, and counts what it sent."""

    HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"

    def handle(self) -> None:
        self.request.recv(65536)
        started = time.monotonic()
        try:
            getattr(self, self.server.behaviour)()
        except OSError:  # the client hung up
            pass
        self.server.held = time.monotonic() - started

    def send(self, data: bytes) -> None:
        self.request.sendall(data)
        self.server.sent += len(data)

    def drip(self, data: bytes) -> None:
        for byte in data:
            self.send(bytes([byte]))
            time.sleep(0.2)

    def drip_body(self) -> None:
        self.send(self.HEAD + b"\r\n")
        self.drip(b"<cas:serviceResponse>" * 1000)

    def drip_headers(self) -> None:
        self.drip(self.HEAD + b"X-Padding: " + b"a" * 1000)

    def announce_300_mb(self) -> None:
        self.send(self.HEAD + b"Content-Length: 300000000\r\n\r\n")
        for _ in range(300):
            self.send(b"<" * 1_000_000)

    def stream_300_mb(self) -> None:
        self.send(self.HEAD + b"Connection: close\r\n\r\n")
        for _ in range(300):
            self.send(b"<" * 1_000_000)


@pytest.fixture
def bad_cas() -> Iterator[socketserver.ThreadingTCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), BadCas)
    server.daemon_threads = True
    server.sent = 0
    server.held = None
    with serving(server):
        yield server


def come_back_to(site, settings, crans_cas, server, **overrides) -> tuple[requests.Response, float]:
    """Log in at the real CAS, then validate the ticket at ``server``; the answer and its time."""
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    url = f"http://127.0.0.1:{server.server_address[1]}/cas/"
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": provider_settings(crans_cas, SERVER_URL=url, **overrides)
    }
    started = time.monotonic()
    response = browser.come_back(callback_url)
    return response, time.monotonic() - started


@pytest.mark.parametrize("behaviour", ["drip_body", "drip_headers"])
def test_cas_answering_drop_by_drop_is_cut_at_the_deadline(
    site, settings, crans_cas, bad_cas, caplog, behaviour
):
    bad_cas.behaviour = behaviour

    response, elapsed = come_back_to(site, settings, crans_cas, bad_cas, TIMEOUT=1)

    # The whole answer would take minutes; the connection is cut at 1 s (the
    # server notices at its next byte, 0.2 s later at most).
    waited = time.monotonic() + 5
    while bad_cas.held is None and time.monotonic() < waited:
        time.sleep(0.05)
    assert bad_cas.held is not None and bad_cas.held < 1.5
    assert elapsed < 30  # a loaded machine renders the error page slowly
    assert_error_page(response, "cannot be reached")
    assert "CasTooSlow" in caplog.text
    assert "no complete answer within 1 s" in caplog.text
    assert not User.objects.exists()


@pytest.mark.parametrize("behaviour", ["announce_300_mb", "stream_300_mb"])
def test_cas_answer_larger_than_the_limit_is_refused(
    site, settings, crans_cas, bad_cas, caplog, behaviour
):
    bad_cas.behaviour = behaviour

    response, elapsed = come_back_to(
        site, settings, crans_cas, bad_cas, MAX_ANSWER_SIZE=100_000, TIMEOUT=30
    )

    assert elapsed < 30  # a loaded machine renders the error page slowly
    assert_error_page(response, "cannot be understood")
    assert "AnswerTooLarge" in caplog.text
    assert not User.objects.exists()
    # The connection was closed long before the 300 MB: at most what the
    # kernel buffers took besides the 100 kB read.
    assert bad_cas.sent < 30_000_000


# 6. Long or odd CAS usernames.


def test_cas_username_too_long_for_a_uid_is_an_error_page(site, cas_member, caplog):
    member = cas_member(CasUser("x" * 200, "long-password", "long@example.org"))

    response = Browser(site, member).log_in()

    assert_error_page(response, "cannot use")
    assert "UnusableIdentity" in caplog.text
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("cas_username", "username"),
    [
        ("y" * 191, "y" * 140),
        ("Jean Dupont/Crans", "jeandupontcrans"),
        ("é.ç+ü", "é.ç+ü"),
        ("/!?", "odd"),
    ],
)
def test_long_or_odd_cas_username_gives_a_valid_username(site, cas_member, cas_username, username):
    member = cas_member(CasUser(cas_username, "odd-password", "odd@example.org", "Odd", "Name"))
    browser = Browser(site, member)

    response = browser.log_in("/accounts/email/")

    assert response.headers["Location"] == "/accounts/email/"
    user = SocialAccount.objects.get(uid=cas_username.lower()).user
    assert user.username == username
    user.full_clean()


# 7. Single logout only from the CAS server.


def test_single_logout_from_another_address_is_refused(site, caplog):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    assert browser.come_back(callback_url).status_code == 302
    ticket = ticket_of(callback_url)

    # The CAS server is 127.0.0.1 (SERVER_URL); 127.0.0.2 is another machine.
    assert post_from(site, "127.0.0.2", ticket) == 403

    assert browser.is_logged_in()
    assert "Single-logout request from 127.0.0.2 refused" in caplog.text
    assert post_from(site, "127.0.0.1", ticket) == 200
    assert not browser.is_logged_in()


def test_single_logout_addresses_can_be_given(site, settings, crans_cas):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": provider_settings(crans_cas, LOGOUT_REQUEST_ADDRESSES=["127.0.0.2/32"])
    }
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    assert browser.come_back(callback_url).status_code == 302
    ticket = ticket_of(callback_url)

    assert post_from(site, "127.0.0.1", ticket) == 403
    assert browser.is_logged_in()
    assert post_from(site, "127.0.0.2", ticket) == 200
    assert not browser.is_logged_in()


def test_tickets_never_appear_in_full_in_the_log(site, settings, crans_cas, closed_port, caplog):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    ticket = ticket_of(callback_url)
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": provider_settings(crans_cas, SERVER_URL=f"http://127.0.0.1:{closed_port}/cas/")
    }
    assert_error_page(browser.come_back(callback_url), "cannot be reached")
    forged = f"{browser.start_login()}"
    service = parse_qs(urlsplit(forged).query)["service"][0]
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": provider_settings(crans_cas)}
    assert_error_page(
        browser.come_back(f"{service}&ticket=ST-forged-{'x' * 40}"), "did not confirm"
    )

    assert "rejected ticket ST-forge...: INVALID_TICKET" in caplog.text
    assert ticket not in caplog.text
    assert "x" * 40 not in caplog.text


# What held, and still holds.


def test_ticket_issued_for_another_service_is_refused(site, crans_cas, caplog):
    browser = Browser(site, ALICE)
    service = browser.start_login()  # the state our callback expects
    other = f"{crans_cas.url}login?{urlencode({'service': 'http://127.0.0.1:9/other/'})}"
    ticket = ticket_of(browser.log_in_at_cas(other))
    callback = parse_qs(urlsplit(service).query)["service"][0]

    response = browser.come_back(f"{callback}&ticket={ticket}")

    assert_error_page(response, "did not confirm this sign-in")
    assert "INVALID_SERVICE" in caplog.text
    assert not User.objects.exists()


def test_session_key_changes_at_login(site):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    before = browser.http.cookies["sessionid"]

    assert browser.come_back(callback_url).status_code == 302

    assert browser.http.cookies["sessionid"] != before
    assert browser.is_logged_in()


def test_html_in_cas_attributes_is_shown_as_text(site, cas_member):
    script = "<script>alert('x')</script>"
    member = cas_member(CasUser("mallory", "mallory-password", "mallory@example.org", script, "L"))
    browser = Browser(site, member)
    assert browser.log_in().status_code == 302

    page = browser.get(reverse("mm_user_profile")).text

    assert User.objects.get().first_name == script
    assert script not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE r [<!ENTITY t SYSTEM "file:///etc/hostname">]>',
        '<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
        '<!ENTITY t "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">]>',
    ],
    ids=["external entity", "entity bomb"],
)
def test_logout_request_entities_are_not_expanded(site, caplog, doctype):
    browser = Browser(site, ALICE)
    assert browser.log_in().status_code == 302
    logout = logout_request("&t;").replace("<samlp:LogoutRequest", f"{doctype}<samlp:LogoutRequest")

    started = time.monotonic()
    response = requests.post(
        site + reverse("crans_callback"), data={"logoutRequest": logout}, timeout=30
    )

    assert time.monotonic() - started < 10
    assert response.status_code in (200, 400)
    assert browser.is_logged_in()
    assert "aaaaaaaaaa" not in caplog.text


# Issue 20, what held: single logout counts the peer's address only.


def claiming(header: str, address: str) -> dict[str, str]:
    """A header that claims the request comes from ``address`` (through a proxy)."""
    return {header: f"for={address}" if header == "Forwarded" else address}


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_single_logout_ignores_forwarding_headers(site, settings, crans_cas, header, caplog):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    assert browser.come_back(callback_url).status_code == 302
    ticket = ticket_of(callback_url)

    # From another machine, claiming to come from the CAS server (127.0.0.1).
    assert post_from(site, "127.0.0.2", ticket, claiming(header, "127.0.0.1")) == 403
    assert browser.is_logged_in()
    assert "Single-logout request from 127.0.0.2 refused" in caplog.text

    # From the CAS server, claiming to come from elsewhere: the peer still counts.
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": provider_settings(crans_cas, LOGOUT_REQUEST_ADDRESSES=["127.0.0.2/32"])
    }
    assert post_from(site, "127.0.0.1", ticket, claiming(header, "127.0.0.2")) == 403
    assert browser.is_logged_in()
    assert post_from(site, "127.0.0.2", ticket, claiming(header, "127.0.0.1")) == 200
    assert not browser.is_logged_in()


# Issue 20, what held: whatever the `process` of a login, the first-login rules apply.

PROCESSES = ["foo", "", "LOGIN", "login "]


def log_in_with_process(browser: Browser, process: str) -> requests.Response:
    query = urlencode({"process": process, "next": "/accounts/email/"})
    cas_login_url = browser.get(f"{reverse('crans_login')}?{query}").headers["Location"]
    return browser.come_back(browser.log_in_at_cas(cas_login_url))


@pytest.mark.parametrize("process", PROCESSES)
def test_unknown_process_still_connects_through_the_verified_address(site, process):
    local = local_account("cann", "carol@example.org", verified=True)
    browser = Browser(site, CAROL)

    response = log_in_with_process(browser, process)

    assert response.headers["Location"] == "/accounts/email/"
    assert SocialAccount.objects.get(uid="carol").user == local
    assert list(User.objects.all()) == [local]


@pytest.mark.parametrize("process", PROCESSES)
def test_unknown_process_never_logs_in_as_a_superuser(site, cas_member, process):
    root = local_account("root", "root@example.org", verified=True, is_staff=True)
    root.is_superuser = True
    root.save()
    browser = Browser(site, cas_member(CasUser("mallory", "mallory-password", "root@example.org")))

    response = log_in_with_process(browser, process)

    assert_error_page(response, NOT_CONNECTED)
    assert not browser.is_logged_in()
    assert list(User.objects.all()) == [root]


@pytest.mark.parametrize("process", PROCESSES)
def test_unknown_process_gives_no_address_held_by_another_account(site, process):
    eve = local_account("eve", "eve@example.net", verified=True)
    EmailAddress.objects.create(user=eve, email="carol@example.org", verified=False)

    log_in_with_process(Browser(site, CAROL), process)

    carol = SocialAccount.objects.get(uid="carol").user
    assert carol != eve
    assert list(EmailAddress.objects.filter(user=carol).values_list("email", flat=True)) == [
        "carol@crans.org"
    ]
