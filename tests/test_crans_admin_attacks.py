"""Attacks of a staff member on the admin, against the real CAS server and PostgreSQL.

``sam`` is a Crans member who logs in through the CAS and was given staff
status and a few delegated permissions (by a superuser: here, by the test).
Each attack below worked before the admin-wide rule (issue 20, attacks 1-3);
each now fails, and sam never acts as the superuser ``root``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
import requests
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Success
from hyperkitty.models import MailingList

from devstack.cas_server import CasServer, CasUser
from tests.admin_pages import admin_url, form_data, model_permissions
from tests.fixtures.cas_server import Browser

pytestmark = pytest.mark.usefixtures("crans_cas")
SAM = CasUser("sam", "sam-password", "sam@example.org", "Sam", "Staff")
REFUSED = "belongs to a staff or superuser account"


@pytest.fixture
def sam_at_cas(crans_cas: CasServer) -> Iterator[CasUser]:
    crans_cas.update_user(SAM)
    yield SAM
    crans_cas.update_user(CasUser(SAM.username, f"gone-{time.monotonic()}"))


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("root", "root@crans.org", "root-password")


def staff_member(site: str, *models, codenames: tuple[str, ...] = ()) -> Browser:
    """sam, logged in through the CAS, then given staff status and permissions."""
    browser = Browser(site, SAM)
    response = browser.log_in()
    assert response.status_code == 302, response.text
    sam = SocialAccount.objects.get(provider="crans", uid="sam").user
    sam.is_staff = True
    sam.save()
    sam.user_permissions.add(*model_permissions(*models))
    if codenames:
        from django.contrib.auth.models import Permission

        sam.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return browser


def admin_form(browser: Browser, url: str, form_id: str) -> dict:
    """The admin form at ``url`` as sam's browser gets it (the page must be allowed)."""
    page = browser.get(url)
    assert page.status_code == 200, page.status_code
    return {**form_data(page.text, form_id), "_save": "Save"}


def submit(browser: Browser, url: str, data: dict) -> requests.Response:
    return browser.http.post(
        browser.site + url,
        data={**data, "csrfmiddlewaretoken": browser.http.cookies["csrftoken"]},
        headers={"Referer": browser.site + url},
        allow_redirects=False,
        timeout=30,
    )


def is_in_roots_session(browser: Browser) -> bool:
    """Whether the browser's session is a superuser's (the doctor page is theirs alone)."""
    return browser.get(reverse("admin:crans_doctor")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_attack_1_staff_cannot_move_its_cas_account_onto_a_superuser(site, sam_at_cas, root):
    from allauth.socialaccount.models import SocialAccount as Model

    browser = staff_member(site, Model)
    account = SocialAccount.objects.get(provider="crans", uid="sam")
    url = admin_url(Model, "change", account.pk)
    data = admin_form(browser, url, "socialaccount_form")
    data["user"] = str(root.pk)

    response = submit(browser, url, data)

    assert response.status_code == 403  # sam's own account is a staff account: read-only
    account.refresh_from_db()
    assert account.user.username == "sam"
    # sam logs in again through the CAS: sam's account, not root's.
    again = Browser(site, SAM)
    again.log_in()
    assert again.get(reverse("admin:index")).status_code == 200
    assert not is_in_roots_session(again)


@pytest.mark.django_db(transaction=True)
def test_attack_1_staff_cannot_move_a_members_cas_account_onto_a_superuser(
    site, sam_at_cas, root, crans_cas
):
    """The same through another member's CAS account (alice's, whom sam could ask to log in)."""
    alice = Browser(site, CasUser("alice", "alice-password"))
    alice.log_in()
    browser = staff_member(site, SocialAccount)
    account = SocialAccount.objects.get(provider="crans", uid="alice")
    url = admin_url(SocialAccount, "change", account.pk)
    data = admin_form(browser, url, "socialaccount_form")
    data["user"] = str(root.pk)

    response = submit(browser, url, data)

    assert response.status_code == 200
    assert REFUSED in response.text
    account.refresh_from_db()
    assert account.user.username == "alice"
    assert not is_in_roots_session(alice)


@pytest.mark.django_db(transaction=True)
def test_attack_2_staff_cannot_give_a_superuser_an_address_it_reads(
    site, sam_at_cas, root, mailoutbox
):
    browser = staff_member(site, EmailAddress)
    url = admin_url(EmailAddress, "add")
    data = admin_form(browser, url, "emailaddress_form")
    inbox = "sam.inbox@example.net"  # an address sam reads
    data.update(user=str(root.pk), email=inbox, verified="on")

    response = submit(browser, url, data)

    assert response.status_code == 200
    assert REFUSED in response.text
    assert not EmailAddress.objects.filter(email=inbox).exists()
    # The password reset for that address, anonymously: no link resets root's password.
    anonymous = requests.Session()
    anonymous.get(site + reverse("account_reset_password"), timeout=30)
    reset = anonymous.post(
        site + reverse("account_reset_password"),
        data={"email": inbox, "csrfmiddlewaretoken": anonymous.cookies["csrftoken"]},
        allow_redirects=False,
        timeout=30,
    )
    assert reset.status_code == 302
    for message in mailoutbox:
        for link in re.findall(r"https?://\S+/accounts/password/reset/key/\S+", message.body):
            set_password(anonymous, site, link)
    root.refresh_from_db()
    assert root.check_password("root-password")


def set_password(session: requests.Session, site: str, link: str) -> None:
    """Follow a password reset link and set a new password, as its reader would."""
    path = "/" + link.split("/", 3)[3]
    page = session.get(site + path, timeout=30)
    form = form_data(page.text)
    session.post(
        page.url,
        data={**form, "password1": "taken-over-1", "password2": "taken-over-1"},
        timeout=30,
    )


@pytest.mark.django_db(transaction=True)
def test_attack_2_staff_cannot_verify_an_address_a_superuser_left_unverified(
    site, sam_at_cas, root
):
    typo = EmailAddress.objects.create(user=root, email="root@crans.orgg", verified=False)
    browser = staff_member(site, EmailAddress)
    url = admin_url(EmailAddress, "changelist")
    browser.get(url)

    submit(browser, url, {"action": "make_verified", "index": "0", "_selected_action": typo.pk})

    typo.refresh_from_db()
    assert not typo.verified


@pytest.mark.django_db(transaction=True)
def test_attack_3_staff_cannot_schedule_code(site, sam_at_cas, root):
    browser = staff_member(site, Schedule, Success)
    url = admin_url(Schedule, "add")
    now = timezone.now()
    data = {
        "name": "promote",
        "func": "django.core.management.call_command",
        "args": "'crans_grant_superuser', 'sam'",
        "schedule_type": "O",
        "repeats": "-1",
        "next_run_0": now.strftime("%Y-%m-%d"),
        "next_run_1": now.strftime("%H:%M:%S"),
        "_save": "Save",
    }

    page = browser.get(url)
    response = submit(browser, url, data)
    listed = browser.get(admin_url(Schedule, "changelist"))
    tasks = browser.get(admin_url(Success, "changelist"))

    assert page.status_code == response.status_code == 403
    assert listed.status_code == tasks.status_code == 403
    assert not Schedule.objects.exists()
    # The cluster's scheduler finds nothing to run.
    from django_q.brokers import get_broker
    from django_q.scheduler import scheduler

    scheduler(broker=get_broker())
    assert not OrmQ.objects.exists()
    assert not User.objects.get(username="sam").is_superuser


@pytest.mark.django_db(transaction=True)
def test_held_staff_without_permissions_gets_403_on_the_doctor_and_rename_pages(site, sam_at_cas):
    mailing_list = MailingList.objects.create(name="discussion@lists.example.org")
    browser = staff_member(site)

    assert browser.get(reverse("admin:index")).status_code == 200
    assert browser.get(reverse("admin:crans_doctor")).status_code == 403
    rename = reverse("admin:hyperkitty_mailinglist_rename", args=[mailing_list.pk])
    assert browser.get(rename).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_member_adding_a_superusers_address_to_their_account_gets_no_reset_for_it(
    site, mailoutbox
):
    """allauth's own pages, for a member without staff status: an address added there is
    unverified, on their own account; a reset link goes to the address typed, never to them."""
    root = User.objects.create_superuser("root", "root@crans.org", "root-password")
    alice = Browser(site, CasUser("alice", "alice-password", "alice@example.org"))
    alice.log_in()
    page = alice.get(reverse("account_email"))
    added = alice.http.post(
        site + reverse("account_email"),
        data={
            "email": "root@crans.org",
            "action_add": "",
            "csrfmiddlewaretoken": alice.http.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=30,
    )
    assert page.status_code == 200 and added.status_code == 302
    # Held by alice, unverified (root has it as the account's address alone, as
    # createsuperuser makes it); its confirmation went to root@crans.org.
    assert list(
        EmailAddress.objects.filter(email="root@crans.org").values_list("user", "verified")
    ) == [(User.objects.get(username="alice").pk, False)]
    mailoutbox.clear()

    reset = requests.Session()
    reset.get(site + reverse("account_reset_password"), timeout=30)
    reset.post(
        site + reverse("account_reset_password"),
        data={"email": "root@crans.org", "csrfmiddlewaretoken": reset.cookies["csrftoken"]},
        timeout=30,
    )

    assert mailoutbox, "no reset mail at all?"
    assert {address for message in mailoutbox for address in message.to} == {"root@crans.org"}
    root.refresh_from_db()
    assert root.check_password("root-password")
