"""CAS logins on a site upgraded from django-allauth-cas: old rows joined, never picked between.

django-allauth-cas 1.0.0 stored the CAS user as the CAS returned it (``Bob``)
and ``extra_data=dict(attributes, uid=uid)``; the provider stores ``bob``.
Real logins through the session's django-cas-server.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.urls import reverse

from allauth_cas_crans.provider import CransProvider
from allauth_cas_crans.uids import DuplicateAccounts, cas_attributes, normalise_uid
from devstack.cas_server import CasUser
from tests.fixtures.cas_server import Browser, assert_error_page, local_account, log_in_locally
from tests.fixtures.members import allauth_cas_extra_data, crans_member

User = get_user_model()
pytestmark = pytest.mark.usefixtures("crans_cas")

BOB = CasUser("Bob", "bob-password", "bob@example.org", "Bob", "Marley")
DUPLICATE = str(DuplicateAccounts.message)


def old_member(username: str, uid: str, email: str) -> User:
    """An account as django-allauth-cas 1.0.0 left it: the CAS user as returned, old extra_data."""
    extra_data = allauth_cas_extra_data(uid, {"email": email, "first_name": "Bob"})
    return crans_member(uid, email, username=username, extra_data=extra_data)


def test_first_login_joins_the_old_unnormalised_row(site, cas_member):
    old = old_member("bob", "Bob", "bob@example.org")
    browser = Browser(site, cas_member(BOB))

    response = browser.log_in("/accounts/email/")

    assert response.status_code == 302
    assert response.headers["Location"] == "/accounts/email/"
    assert browser.is_logged_in()
    assert list(User.objects.all()) == [old]
    account = SocialAccount.objects.get()
    assert (account.user, account.uid) == (old, "bob")
    assert account.extra_data["last_name"] == "Marley"  # the CAS's attributes now


def test_first_login_joins_the_old_row_when_the_cas_address_changed(site, cas_member):
    """Before: a second account (bob2) with uid "bob", the old one orphaned."""
    old = old_member("bob", "Bob", "bob.old@example.net")
    browser = Browser(site, cas_member(BOB))

    assert browser.log_in().status_code == 302

    assert browser.is_logged_in()
    assert list(User.objects.all()) == [old]
    assert SocialAccount.objects.get().uid == "bob"


@pytest.mark.parametrize("uids", [("Bob", "BOB"), ("bob", "Bob"), (" Bob", "bob ")])
def test_two_old_rows_of_one_uid_are_never_picked_between(site, cas_member, caplog, uids):
    first = old_member("bob", uids[0], "bob@example.org")
    second = old_member("bob2", uids[1], "bob2@example.org")
    browser = Browser(site, cas_member(BOB))

    assert_error_page(browser.log_in(), DUPLICATE)

    assert not browser.is_logged_in()
    assert set(User.objects.all()) == {first, second}
    assert sorted(SocialAccount.objects.values_list("uid", flat=True)) == sorted(uids)
    assert "none picked, run mailman-web crans_upgrade" in caplog.text


def test_duplicate_refusal_is_translated(site, cas_member):
    old_member("bob", "Bob", "bob@example.org")
    old_member("bob2", "BOB", "bob2@example.org")
    browser = Browser(site, cas_member(BOB))
    browser.http.headers["Accept-Language"] = "fr"

    response = browser.log_in()

    assert "Plusieurs comptes" in response.text


def test_connecting_from_another_account_does_not_take_the_old_row(site, cas_member):
    """A member logged in locally connects the CAS account "Bob" that an old row holds."""
    old = old_member("bob", "Bob", "bob.old@example.net")
    other = local_account("mallory", "mallory@example.org", verified=True)
    browser = Browser(site, cas_member(BOB))
    log_in_locally(browser, "mallory")
    query = urlencode({"process": "connect", "next": "/accounts/3rdparty/"})
    cas_login_url = browser.get(f"{reverse('crans_login')}?{query}").headers["Location"]

    browser.come_back(browser.log_in_at_cas(cas_login_url))

    account = SocialAccount.objects.get()
    assert (account.user, account.uid) == (old, "bob")
    assert not SocialAccount.objects.filter(user=other).exists()


def test_old_extra_data_is_read_like_the_providers(site, cas_member):
    """The old shape, and a stored value that is no mapping at all, hold the CAS's attributes."""
    provider = CransProvider(None)
    old = {"email": "bob@example.org", "givenName": ["Bob"], "sn": "Marley", "uid": "Bob"}

    assert provider.names(old) == {"first_name": "Bob", "last_name": "Marley"}
    assert provider.attribute(old, "username") == "Bob"
    assert provider.names(["not", "a", "mapping"]) == {}
    assert cas_attributes(None) == {}
    assert normalise_uid(" Bob ") == "bob"


def test_old_rows_show_on_the_admin_and_connections_pages(site, admin_client):
    old_member("bob", "Bob", "bob@example.org")
    SocialAccount.objects.filter(uid="Bob").update(extra_data=["not", "a", "mapping"])

    page = admin_client.get(reverse("admin:auth_user_changelist"))

    assert page.status_code == 200
    assert "Bob" in page.content.decode()
