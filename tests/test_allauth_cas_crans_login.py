"""The "crans" provider end to end: a real CAS server, mailman-web served for real.

Each test drives a member's browser (a requests session) through mailman-web's
``/accounts/crans/login/``, the login form of django-cas-server and back to
the callback, then looks at the database and the pages.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.shortcuts import resolve_url
from django.urls import reverse

from allauth_cas_crans.models import ServiceTicket
from devstack.cas_server import CasUser
from tests.fixtures.cas_server import (
    ALICE,
    BOB,
    DAVE,
    ERIN,
    Browser,
    assert_error_page,
    come_back_at_once,
    provider_settings,
    service_of,
    ticket_of,
)
from tests.fixtures.loopback import serving

User = get_user_model()
pytestmark = pytest.mark.usefixtures("crans_cas")


class SilentCas:
    """A CAS server that reads the request and never answers; ``held``: how long it was kept."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/cas/"
        self.held: float | None = None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.sock.accept()
        started = time.monotonic()
        with connection:
            while connection.recv(65536):  # until the client hangs up
                pass
        self.held = time.monotonic() - started


@pytest.fixture
def silent_cas() -> Iterator[SilentCas]:
    server = SilentCas()
    yield server
    server.sock.close()


class NotCas(BaseHTTPRequestHandler):
    """An HTTP server that answers every request with a page that is not CAS XML."""

    def do_GET(self) -> None:
        body = b"<html><body>Maintenance in progress</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_cas_url() -> Iterator[str]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), NotCas)) as server:
        yield f"http://127.0.0.1:{server.server_port}/cas/"


def test_first_login_creates_the_member(site):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login("/accounts/email/"))
    response = browser.come_back(callback_url)

    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/email/"
    assert browser.is_logged_in()
    user = User.objects.get()
    assert (user.username, user.email, user.first_name, user.last_name) == (
        "alice",
        "alice@example.org",
        "Alice",
        "Liddell",
    )
    assert not user.has_usable_password()
    address = EmailAddress.objects.get(user=user)
    assert (address.email, address.verified, address.primary) == ("alice@example.org", True, True)
    account = SocialAccount.objects.get(user=user)
    assert (account.provider, account.uid) == ("crans", "alice")
    assert account.extra_data["email"] == "alice@example.org"
    assert account.extra_data["first_name"] == "Alice"
    ticket = ticket_of(callback_url)
    assert ServiceTicket.objects.filter(ticket=ticket).exists()


def test_uid_is_stripped_and_lower_cased(site):
    assert Browser(site, DAVE).log_in().status_code == 302

    account = SocialAccount.objects.get()
    assert account.uid == "dave.martin"
    assert account.user.username == "dave.martin"


def test_later_login_updates_names_and_email(site, crans_cas):
    assert Browser(site, ERIN).log_in().status_code == 302
    renamed = CasUser("erin", ERIN.password, "erin.smith@example.org", "Erin", "Smith-Jones")
    crans_cas.update_user(renamed)
    try:
        browser = Browser(site, renamed)
        response = browser.log_in()
    finally:
        crans_cas.update_user(ERIN)

    assert response.status_code == 302
    assert browser.is_logged_in()
    user = User.objects.get()
    assert (user.last_name, user.email) == ("Smith-Jones", "erin.smith@example.org")
    addresses = {a.email: (a.verified, a.primary) for a in EmailAddress.objects.filter(user=user)}
    assert addresses == {
        "erin@example.org": (True, False),
        "erin.smith@example.org": (True, True),
    }
    assert SocialAccount.objects.get().extra_data["last_name"] == "Smith-Jones"


def test_later_login_keeps_an_email_another_account_verified(site, crans_cas, caplog):
    assert Browser(site, ERIN).log_in().status_code == 302
    other = User.objects.create_user("other", "shared@example.org")
    EmailAddress.objects.create(user=other, email="shared@example.org", verified=True, primary=True)
    moved = CasUser("erin", ERIN.password, "shared@example.org", "Erin", "Smith")
    crans_cas.update_user(moved)
    try:
        response = Browser(site, moved).log_in()
    finally:
        crans_cas.update_user(ERIN)

    assert response.status_code == 302
    assert User.objects.get(username="erin").email == "erin@example.org"
    assert EmailAddress.objects.filter(email="shared@example.org").get().user == other
    assert "verified by another account: not changed" in caplog.text


def test_member_without_cas_email_gets_an_unverified_crans_address(site, mailoutbox):
    browser = Browser(site, BOB)
    response = browser.log_in()

    # ACCOUNT_EMAIL_VERIFICATION = "mandatory": the derived address is confirmed first.
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("account_email_verification_sent")
    assert not browser.is_logged_in()
    address = EmailAddress.objects.get(user__username="bob")
    assert (address.email, address.verified, address.primary) == ("bob@crans.org", False, True)
    assert [message.to for message in mailoutbox] == [["bob@crans.org"]]


def test_without_email_domain_allauth_asks_for_an_email(site, settings, crans_cas):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": provider_settings(crans_cas, EMAIL_DOMAIN=None)}
    response = Browser(site, BOB).log_in()

    assert response.status_code == 302
    assert response.headers["Location"] == reverse("socialaccount_signup")
    assert not User.objects.exists()


@pytest.mark.parametrize(
    "next_url", ["/accounts/email/", "/postorius/lists/?count=10&page=2", "/archives/"]
)
def test_next_is_kept_across_the_round_trip(site, next_url):
    response = Browser(site, ALICE).log_in(next_url)

    assert response.status_code == 302
    assert response.headers["Location"] == next_url


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example.org/",
        "//evil.example.org/",
        "http:/\\evil.example.org",
        "/\\evil.example.org",
        "\\\\evil.example.org",
        "https:evil.example.org",
        " //evil.example.org",
        "/\t/evil.example.org",
        "javascript:alert('evil')",
        "http://127.0.0.1.evil.example.org/",
    ],
)
def test_foreign_next_is_ignored(site, next_url):
    browser = Browser(site, ALICE)
    cas_login_url = browser.start_login(next_url)
    response = browser.come_back(browser.log_in_at_cas(cas_login_url))

    assert "evil" not in cas_login_url
    assert response.status_code == 302
    assert response.headers["Location"] == resolve_url("list_index")
    assert browser.is_logged_in()


def test_login_page_shows_the_crans_button(site):
    browser = Browser(site, ALICE)
    page = browser.get("/accounts/login/?next=/accounts/email/")

    assert page.status_code == 200
    button = next(
        line for line in page.text.split("<a ") if 'class="socialaccount_provider crans' in line
    )
    href = button.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert urlsplit(href).path == "/accounts/crans/login/"
    image = button.split('src="', 1)[1].split('"', 1)[0]
    assert image.endswith("django-mailman3/img/login/crans.png")
    assert "Crans" in button

    png = browser.get(image)
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert struct.unpack(">II", png.content[16:24]) == (24, 24)

    response = browser.come_back(browser.log_in_at_cas(browser.get(href).headers["Location"]))
    assert response.headers["Location"] == "/accounts/email/"
    assert browser.is_logged_in()


@pytest.mark.parametrize("version", [1, 2, 3, "CAS_2_SAML_1_0"])
def test_cas_protocol_versions(site, settings, crans_cas, version):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": provider_settings(crans_cas, VERSION=version)}
    browser = Browser(site, ALICE)
    cas_login_url = browser.start_login("/accounts/email/")
    response = browser.come_back(browser.log_in_at_cas(cas_login_url))

    account = SocialAccount.objects.get()
    assert account.uid == "alice"
    if version == 1:
        # CAS 1 releases no attribute: the address is derived, then confirmed.
        assert account.extra_data == {}
        assert account.user.email == "alice@crans.org"
        assert response.headers["Location"] == reverse("account_email_verification_sent")
    else:
        assert account.extra_data["email"] == "alice@example.org"
        assert account.user.first_name == "Alice"
        assert response.headers["Location"] == "/accounts/email/"
        assert browser.is_logged_in()


def test_forged_ticket_is_refused(site, caplog):
    browser = Browser(site, ALICE)
    service = service_of(browser.start_login())
    response = browser.come_back(f"{service}&ticket=ST-{'forged' * 8}")

    assert_error_page(response, "did not confirm this sign-in")
    assert "Third-Party Login Failure" in response.text
    assert "TicketRejected" in caplog.text
    assert "INVALID_TICKET" in caplog.text
    assert not User.objects.exists()
    assert not browser.is_logged_in()


def test_error_page_in_french(site):
    browser = Browser(site, ALICE)
    browser.http.headers["Accept-Language"] = "fr"
    service = service_of(browser.start_login())
    response = browser.come_back(f"{service}&ticket=ST-{'forged' * 8}")

    assert_error_page(response, "pas confirmé cette connexion")
    assert "Third-Party Login Failure" not in response.text


def test_ticket_validated_elsewhere_first_is_refused(site, crans_cas, caplog):
    browser = Browser(site, ALICE)
    cas_login_url = browser.start_login()
    callback_url = browser.log_in_at_cas(cas_login_url)
    ticket = ticket_of(callback_url)
    # Someone who intercepted the ticket uses it first.
    stolen = requests.get(
        f"{crans_cas.url}p3/serviceValidate",
        params={"ticket": ticket, "service": service_of(cas_login_url)},
        timeout=30,
    )
    assert "authenticationSuccess" in stolen.text

    response = browser.come_back(callback_url)

    assert_error_page(response, "did not confirm this sign-in")
    assert "INVALID_TICKET" in caplog.text
    assert not User.objects.exists()


def test_callback_replayed_after_login_is_refused(site):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    assert browser.come_back(callback_url).status_code == 302

    assert_error_page(browser.come_back(callback_url), "has expired or was already used")
    assert SocialAccount.objects.count() == 1


def test_callback_url_is_useless_in_another_browser(site):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    thief = Browser(site, BOB)

    assert_error_page(thief.come_back(callback_url), "has expired or was already used")
    assert not thief.is_logged_in()
    # The ticket was not spent: the member's own browser still logs in.
    assert browser.come_back(callback_url).status_code == 302
    assert browser.is_logged_in()


def test_cas_down_during_validation(site, settings, closed_port, caplog):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    settings.SOCIALACCOUNT_PROVIDERS = {
        "crans": {"SERVER_URL": f"http://127.0.0.1:{closed_port}/cas/"}
    }

    assert_error_page(browser.come_back(callback_url), "cannot be reached")
    assert "CasUnavailable" in caplog.text
    assert not User.objects.exists()


def test_cas_too_slow_times_out(site, settings, silent_cas, caplog):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {"SERVER_URL": silent_cas.url, "TIMEOUT": 1}}

    response = browser.come_back(callback_url)

    silent_cas.thread.join(timeout=10)
    assert silent_cas.held is not None and silent_cas.held < 1.5
    assert_error_page(response, "cannot be reached")
    assert "no complete answer within 1 s" in caplog.text
    assert not User.objects.exists()


def test_cas_answering_garbage(site, settings, not_cas_url, caplog):
    browser = Browser(site, ALICE)
    callback_url = browser.log_in_at_cas(browser.start_login())
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": {"SERVER_URL": not_cas_url}}

    assert_error_page(browser.come_back(callback_url), "cannot be understood")
    assert "MalformedAnswer" in caplog.text
    assert not User.objects.exists()


def test_coming_back_without_ticket_is_a_cancelled_login(site):
    browser = Browser(site, ALICE)
    service = service_of(browser.start_login())
    response = browser.come_back(service)

    assert response.status_code == 302
    assert response.headers["Location"] == reverse("socialaccount_login_cancelled")
    assert not User.objects.exists()


@pytest.mark.parametrize("shared_cookies", [True, False], ids=["four tabs", "four browsers"])
def test_simultaneous_first_logins_make_one_user(site, shared_cookies):
    first = Browser(site, ALICE)
    browsers = [first] + [Browser(site, ALICE) for _ in range(3)]
    if shared_cookies:
        for browser in browsers[1:]:
            browser.http.cookies = first.http.cookies
    callback_urls = [
        browser.log_in_at_cas(browser.start_login("/archives/")) for browser in browsers
    ]
    if shared_cookies:
        for browser in browsers:
            browser.http.cookies = first.http.cookies.copy()
    responses = come_back_at_once(browsers, callback_urls)

    assert [(r.status_code, r.headers["Location"]) for r in responses] == [(302, "/archives/")] * 4
    assert User.objects.count() == 1
    assert SocialAccount.objects.count() == 1
    assert EmailAddress.objects.count() == 1


def test_single_logout_ends_the_session_opened_with_the_ticket(site, crans_cas, caplog):
    caplog.set_level(logging.INFO, logger="allauth_cas_crans")
    browser = Browser(site, ALICE)
    assert browser.log_in().status_code == 302
    other_device = Browser(site, ALICE)
    assert other_device.log_in().status_code == 302
    assert ServiceTicket.objects.records().count() == 2

    # Logging out of the CAS makes it POST a logoutRequest to the callback.
    logout = browser.http.get(f"{crans_cas.url}logout", timeout=30)

    assert logout.status_code == 200
    assert not browser.is_logged_in()
    assert other_device.is_logged_in()
    assert ServiceTicket.objects.records().count() == 1
    assert "Single logout from 127.0.0.1: 1 session(s) ended." in caplog.text


def test_single_logout_request_that_is_not_xml_is_refused(site):
    response = requests.post(
        site + reverse("crans_callback"), data={"logoutRequest": "<not xml"}, timeout=30
    )
    assert response.status_code == 400


def test_single_logout_for_an_unknown_ticket_ends_nothing(site):
    browser = Browser(site, ALICE)
    assert browser.log_in().status_code == 302
    logout_request = (
        '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
        'Version="2.0"><samlp:SessionIndex>ST-unknown</samlp:SessionIndex>'
        "</samlp:LogoutRequest>"
    )
    response = requests.post(
        site + reverse("crans_callback"), data={"logoutRequest": logout_request}, timeout=30
    )

    assert response.status_code == 200
    assert browser.is_logged_in()


def log_out(browser: Browser) -> requests.Response:
    """Confirm the logout form of ``/accounts/crans/logout/``."""
    page = browser.get(reverse("crans_logout"))
    assert page.status_code == 200
    token = page.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    return browser.http.post(
        browser.site + reverse("crans_logout"),
        data={"csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )


def test_logout_stays_on_the_site_by_default(site):
    browser = Browser(site, ALICE)
    assert browser.log_in().status_code == 302

    response = log_out(browser)

    assert response.headers["Location"] == "/"
    assert not browser.is_logged_in()
    assert not ServiceTicket.objects.exists()
    # Still logged in on the CAS: the next login needs no password.
    assert browser.http.get(browser.start_login(), allow_redirects=False).status_code == 302


def test_logout_from_cas(site, settings, crans_cas):
    settings.SOCIALACCOUNT_PROVIDERS = {"crans": provider_settings(crans_cas, LOGOUT_FROM_CAS=True)}
    browser = Browser(site, ALICE)
    assert browser.log_in().status_code == 302

    response = log_out(browser)

    location = response.headers["Location"]
    assert location == f"{crans_cas.url}logout?{urlencode({'service': f'{site}/'})}"
    assert not browser.is_logged_in()
    assert browser.http.get(location, allow_redirects=False, timeout=30).status_code == 302
    # Logged out of the CAS too: the next login asks for the password.
    assert browser.http.get(browser.start_login(), allow_redirects=False).status_code == 200
