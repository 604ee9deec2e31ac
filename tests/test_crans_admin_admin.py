"""The admin: superuser actions on users, the current Site, as a browser posts them (CSRF on)."""

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, Permission, User
from django.contrib.messages import get_messages
from django.contrib.sites.models import Site
from django.test import Client
from django.urls import reverse
from django_mailman3.models import MailDomain

from tests.admin_pages import admin_url
from tests.fixtures.members import crans_member

pytestmark = pytest.mark.django_db

USERS = "/admin/auth/user/"
SITES = "/admin/sites/site/"


@pytest.fixture
def root():
    return User.objects.create_superuser("root", "root@crans.org", "secret")


@pytest.fixture
def browser(root):
    """A client that enforces CSRF, logged in as the superuser ``root``."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(root)
    return client


def csrf_token(client: Client, url: str) -> str:
    """Open ``url`` as a browser would and return the CSRF token it got."""
    response = client.get(url)
    assert response.status_code == 200
    return client.cookies[settings.CSRF_COOKIE_NAME].value


def run_action(client: Client, action: str, *rows: User | Site, confirmed: bool = False):
    """Select ``rows`` on their admin list and run ``action``, as the admin page posts it
    (``confirmed``: as its confirmation page posts it again)."""
    changelist = admin_url(rows[0], "changelist")
    data = {
        "csrfmiddlewaretoken": csrf_token(client, changelist),
        "action": action,
        "index": "0",
        "_selected_action": [row.pk for row in rows],
    }
    return client.post(changelist, {**data, "post": "yes"} if confirmed else data, follow=True)


def shown_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def flags(user: User) -> tuple[bool, bool, bool]:
    user.refresh_from_db()
    return user.is_superuser, user.is_staff, user.is_active


def test_user_list_offers_the_actions_and_keeps_upstream(browser):
    response = browser.get(USERS)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<option value="grant_superuser">' in html
    assert '<option value="grant_superuser_local">' in html
    assert '<option value="revoke_superuser">' in html
    assert '<option value="delete_selected">' in html
    model_admin = response.context["cl"].model_admin
    assert isinstance(model_admin, UserAdmin)
    assert set(UserAdmin.list_display) < set(model_admin.list_display)
    assert model_admin.fieldsets == UserAdmin.fieldsets
    assert browser.get(f"{USERS}?q=root").context["cl"].result_count == 1


def test_action_names_are_translated_to_french(browser):
    html = browser.get(USERS, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Accorder le statut de super-utilisateur aux membres du Crans sélectionnés" in html
    assert "Retirer le statut de super-utilisateur aux utilisateurs sélectionnés" in html


def test_post_without_csrf_token_is_refused(browser):
    ynerant = User.objects.create_user("ynerant")
    browser.get(USERS)

    response = browser.post(
        USERS, {"action": "grant_superuser", "index": "0", "_selected_action": [ynerant.pk]}
    )

    assert response.status_code == 403
    assert flags(ynerant) == (False, False, True)


def test_grant_action_sets_both_flags_and_logs_who_did_it(browser, root):
    ynerant = crans_member("ynerant")
    alice = crans_member("alice")

    response = run_action(browser, "grant_superuser", ynerant, alice)

    assert response.status_code == 200
    assert flags(ynerant) == flags(alice) == (True, True, True)
    assert "alice, ynerant now have superuser and staff status." in shown_messages(response)
    entries = LogEntry.objects.filter(user=root, action_flag=CHANGE).order_by("object_repr")
    assert [entry.object_repr for entry in entries] == ["alice", "ynerant"]
    assert entries[1].object_id == str(ynerant.pk)
    assert entries[1].get_change_message() == (
        "Changed superuser status (granted) and staff status (granted)."
    )


def test_log_entry_is_shown_in_french(browser):
    ynerant = crans_member("ynerant")
    run_action(browser, "grant_superuser", ynerant)

    history = browser.get(f"{USERS}{ynerant.pk}/history/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "statut super-utilisateur (accordé)" in history.content.decode()


def test_grant_action_on_a_superuser_changes_nothing_and_logs_nothing(browser, root):
    response = run_action(browser, "grant_superuser_local", root)

    assert "root already has superuser and staff status: unchanged." in shown_messages(response)
    assert not LogEntry.objects.exists()


def test_grant_action_refuses_a_deactivated_account(browser):
    ynerant = crans_member("ynerant")
    bob = crans_member("bob", is_active=False)

    response = run_action(browser, "grant_superuser", ynerant, bob)

    [message] = shown_messages(response)
    assert "The account 'bob' is deactivated. Nobody was changed." in message
    assert 'Tick "Active" on their page first.' in message
    assert flags(bob) == (False, False, False)
    assert flags(ynerant) == (False, False, True)
    assert not LogEntry.objects.exists()


def test_revoke_action_clears_both_flags_and_logs_it(browser, root):
    ynerant = User.objects.create_superuser("ynerant", "ynerant@crans.org", "secret")

    response = run_action(browser, "revoke_superuser", ynerant)

    assert flags(ynerant) == (False, False, True)
    assert "ynerant no longer has superuser or staff status." in shown_messages(response)
    [entry] = LogEntry.objects.filter(user=root)
    assert entry.get_change_message() == (
        "Changed superuser status (revoked) and staff status (revoked)."
    )


def test_revoke_action_refuses_to_remove_the_last_superuser(browser, root):
    response = run_action(browser, "revoke_superuser", root)

    [message] = shown_messages(response)
    assert "'root' is the last active superuser" in message
    assert "Grant superuser status to another user first." in message
    assert flags(root) == (True, True, True)
    assert not LogEntry.objects.exists()


def test_superuser_can_revoke_themselves_when_another_remains(browser, root):
    User.objects.create_superuser("ynerant", "ynerant@crans.org", "secret")

    run_action(browser, "revoke_superuser", root)

    assert flags(root) == (False, False, True)


def test_staff_without_superuser_status_cannot_use_the_actions():
    staff = User.objects.create_user("staff", is_staff=True)
    # With the delete permission the action menu is there, with only "delete".
    codenames = ["view_user", "change_user", "delete_user"]
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    ynerant = User.objects.create_user("ynerant")
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)

    html = client.get(USERS).content.decode()
    response = run_action(client, "grant_superuser", ynerant)

    assert '<option value="delete_selected">' in html
    assert "grant_superuser" not in html
    assert flags(ynerant) == (False, False, True)
    assert flags(staff) == (False, True, True)
    assert "No action selected." in shown_messages(response)


def test_grant_action_refuses_a_local_account_and_names_it(browser):
    # A local account took the username erin before the member erin logged in (as erin4).
    squatter = User.objects.create_user("erin")
    real = crans_member("erin", username="erin4")

    response = run_action(browser, "grant_superuser", squatter, real)

    [message] = shown_messages(response)
    assert "'erin': a local account, connected to no CAS account." in message
    assert "use the action for local accounts" in message
    assert flags(squatter) == flags(real) == (False, False, True)
    html = browser.get(f"{USERS}?q=erin").content.decode()
    assert '<td class="field-cas_account">erin</td>' in html


def test_grant_action_for_local_accounts_refuses_crans_members(browser):
    local = User.objects.create_user("erin")
    real = crans_member("erin", username="erin4")

    response = run_action(browser, "grant_superuser_local", local, real)

    [message] = shown_messages(response)
    assert "'erin4': connected to a CAS account, not a local account." in message
    assert flags(local) == flags(real) == (False, False, True)
    run_action(browser, "grant_superuser_local", local)
    assert flags(local) == (True, True, True)


def test_grant_message_names_the_cas_account(browser):
    real = crans_member("erin", username="erin4")

    response = run_action(browser, "grant_superuser", real)

    assert "erin4 (CAS account erin) now has superuser and staff status." in shown_messages(
        response
    )


@pytest.fixture
def staff_client():
    """A staff user allowed to view, add, change and delete users and groups."""
    staff = User.objects.create_user("staff", is_staff=True)
    codenames = [
        f"{verb}_{model}"
        for verb in ("view", "add", "change", "delete")
        for model in ("user", "group")
    ]
    staff.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    return staff, client


def post_change_form(client: Client, user: User, **changes):
    """Post the user's change form with its current values and ``changes``, as the page would."""
    url = f"{USERS}{user.pk}/change/"
    token = csrf_token(client, url)
    data = {
        "csrfmiddlewaretoken": token,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    flags_now = {"is_active": user.is_active, "is_staff": user.is_staff}
    flags_now["is_superuser"] = user.is_superuser
    for field, value in {**flags_now, **changes}.items():
        if value is True:
            data[field] = "on"
        elif value not in (False, None):
            data[field] = value
    return client.post(url, data)


def test_staff_cannot_make_themselves_superuser_in_the_change_form(staff_client):
    staff, client = staff_client
    group = Group.objects.create(name="everything")
    group.permissions.set(Permission.objects.all())

    response = post_change_form(
        client,
        staff,
        is_superuser=True,
        groups=[group.pk],
        user_permissions=list(Permission.objects.values_list("pk", flat=True)),
    )

    # A staff account is read-only to anyone but a superuser, one's own included.
    assert response.status_code == 403
    assert flags(staff) == (False, True, True)
    assert not staff.groups.exists()
    assert staff.user_permissions.count() == 8


def test_staff_cannot_make_a_member_superuser_in_the_change_form(staff_client):
    _staff, client = staff_client
    alice = crans_member("alice")
    group = Group.objects.create(name="everything")
    group.permissions.set(Permission.objects.all())

    response = post_change_form(
        client,
        alice,
        is_staff=True,
        is_superuser=True,
        groups=[group.pk],
        user_permissions=list(Permission.objects.values_list("pk", flat=True)),
    )

    assert response.status_code == 302  # saved, without the read-only fields
    assert flags(alice) == (False, False, True)
    assert not alice.groups.exists()
    assert not alice.user_permissions.exists()


def test_staff_cannot_change_or_delete_a_privileged_account(staff_client, root):
    staff, client = staff_client
    member_account = crans_member("alice")

    assert client.get(f"{USERS}{root.pk}/password/").status_code == 403
    token = csrf_token(client, USERS)
    changed = client.post(
        f"{USERS}{root.pk}/password/",
        {"csrfmiddlewaretoken": token, "password1": "taken-over-1", "password2": "taken-over-1"},
    )
    deleted = client.post(
        f"{USERS}{root.pk}/delete/", {"csrfmiddlewaretoken": token, "post": "yes"}
    )

    assert changed.status_code == deleted.status_code == 403
    root.refresh_from_db()
    assert root.check_password("secret")
    # Members' accounts stay theirs to manage.
    assert client.get(f"{USERS}{member_account.pk}/change/").status_code == 200


def test_staff_cannot_add_or_change_groups(staff_client):
    """Groups hold permissions: their pages are a superuser's, whatever staff was given."""
    _staff, client = staff_client
    token = csrf_token(client, USERS)

    added = client.post(
        "/admin/auth/group/add/",
        {
            "csrfmiddlewaretoken": token,
            "name": "powers",
            "permissions": list(Permission.objects.values_list("pk", flat=True)),
        },
    )

    assert added.status_code == 403
    assert not Group.objects.filter(name="powers").exists()
    assert client.get("/admin/auth/group/").status_code == 403


@pytest.mark.parametrize("change", [{"is_superuser": False}, {"is_active": False}])
def test_last_superuser_cannot_drop_their_status_in_the_change_form(browser, root, change):
    response = post_change_form(browser, root, **change)

    assert response.status_code == 200
    assert "&#x27;root&#x27; is the last active superuser" in response.content.decode()
    assert flags(root) == (True, True, True)


def test_superuser_can_drop_their_status_when_another_remains(browser, root):
    User.objects.create_superuser("ynerant", "ynerant@crans.org", "secret")

    response = post_change_form(browser, root, is_superuser=False)

    assert response.status_code == 302
    assert flags(root) == (False, True, True)


def test_last_superuser_cannot_be_deleted(browser, root):
    url = f"{USERS}{root.pk}/delete/"
    token = csrf_token(browser, url)

    response = browser.post(url, {"csrfmiddlewaretoken": token, "post": "yes"})

    assert response.status_code == 200
    assert "is the last active superuser" in response.content.decode()
    assert User.objects.filter(pk=root.pk).exists()


def test_bulk_delete_keeps_the_last_superuser(browser, root):
    other = User.objects.create_superuser("ynerant", "ynerant@crans.org", "secret")

    response = run_action(browser, "delete_selected", root, other, confirmed=True)

    assert "are the last active superusers" in response.content.decode()
    assert User.objects.filter(is_superuser=True).count() == 2


# The page deletes in a transaction of its own (no savepoint): the test cannot run inside one.
@pytest.mark.django_db(transaction=True)
def test_last_superuser_cannot_delete_their_account_on_the_profile_page(browser, root, silent_core):
    url = reverse("mm_user_account_delete")
    token = csrf_token(browser, url)

    response = browser.post(url, {"csrfmiddlewaretoken": token})

    assert response.status_code == 403
    assert User.objects.filter(pk=root.pk).exists()


def test_site_list_shows_the_current_site_and_its_mail_domains(browser):
    current = Site.objects.get(pk=settings.SITE_ID)
    MailDomain.objects.create(site=current, mail_domain="lists.crans.org")
    Site.objects.create(domain="other.crans.org", name="Autre")

    response = browser.get(SITES)

    html = response.content.decode()
    assert "Current site (SITE_ID)" in html
    rows = {
        site.domain: (model_admin.is_current(site), model_admin.mail_domains(site))
        for model_admin in [response.context["cl"].model_admin]
        for site in response.context["cl"].result_list
    }
    assert rows == {"example.com": (True, "lists.crans.org"), "other.crans.org": (False, "")}
    assert html.count('alt="True"') == 1


def change_site(client: Client, site: Site, domain: str, name: str):
    url = f"{SITES}{site.pk}/change/"
    token = csrf_token(client, url)
    return client.post(url, {"csrfmiddlewaretoken": token, "domain": domain, "name": name})


@pytest.mark.parametrize(
    ("domain", "name", "error"),
    [
        ("https://lists.crans.org/", "Listes Crans", "has a scheme"),
        ("lists.crans.org/archives", "Listes Crans", "has a path"),
        ("lists crans.org", "Listes Crans", "contains a space"),
        ("lists.crans.org:http", "Listes Crans", "is not a host name"),
        ("OTHER.crans.org", "Listes Crans", "already used by site #"),
        ("lists.crans.org", "   ", "This field is required."),
    ],
)
def test_site_form_refuses_what_the_command_refuses(browser, domain, name, error):
    Site.objects.create(domain="other.crans.org", name="Autre")
    current = Site.objects.get(pk=settings.SITE_ID)

    response = change_site(browser, current, domain, name)

    assert response.status_code == 200
    assert error in response.content.decode()
    current.refresh_from_db()
    assert (current.domain, current.name) == ("example.com", "example.com")


def test_site_form_saves_logs_and_clears_the_site_cache(browser, root):
    current = Site.objects.get_current()

    response = change_site(browser, current, "Lists.Crans.org", "Listes Crans")

    assert response.status_code == 302
    assert Site.objects.get_current().name == "Listes Crans"
    assert Site.objects.get_current().domain == "lists.crans.org"
    assert LogEntry.objects.get(user=root).object_repr == "lists.crans.org"


def test_site_add_form_works(browser):
    token = csrf_token(browser, f"{SITES}add/")

    response = browser.post(
        f"{SITES}add/",
        {"csrfmiddlewaretoken": token, "domain": "other.crans.org", "name": "Autre"},
    )

    assert response.status_code == 302
    assert Site.objects.get(domain="other.crans.org").name == "Autre"


def test_current_site_cannot_be_deleted(browser):
    url = f"{SITES}{settings.SITE_ID}/delete/"
    token = csrf_token(browser, url)

    response = browser.post(url, {"csrfmiddlewaretoken": token, "post": "yes"})

    assert response.status_code == 200
    assert "example.com is the current site (SITE_ID): it cannot be deleted." in (
        response.content.decode()
    )
    assert Site.objects.filter(pk=settings.SITE_ID).exists()


def test_bulk_delete_keeps_the_current_site(browser):
    other = Site.objects.create(domain="other.crans.org", name="Autre")

    response = run_action(
        browser, "delete_selected", Site.objects.get_current(), other, confirmed=True
    )

    assert "is the current site (SITE_ID): it cannot be deleted." in response.content.decode()
    assert Site.objects.count() == 2
