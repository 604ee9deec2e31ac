"""The admin: superuser actions on users, the current Site, as a browser posts them (CSRF on)."""

import pytest
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.contrib.sites.models import Site
from django.test import Client
from django_mailman3.models import MailDomain

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


def run_action(client: Client, action: str, *users: User):
    """Select ``users`` on the user list and run ``action``, as the admin page posts it."""
    token = csrf_token(client, USERS)
    return client.post(
        USERS,
        {
            "csrfmiddlewaretoken": token,
            "action": action,
            "index": "0",
            "_selected_action": [user.pk for user in users],
        },
        follow=True,
    )


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
    assert '<option value="revoke_superuser">' in html
    assert '<option value="delete_selected">' in html
    model_admin = response.context["cl"].model_admin
    assert isinstance(model_admin, UserAdmin)
    assert set(UserAdmin.list_display) < set(model_admin.list_display)
    assert model_admin.fieldsets == UserAdmin.fieldsets
    assert browser.get(f"{USERS}?q=root").context["cl"].result_count == 1


def test_action_names_are_translated_to_french(browser):
    html = browser.get(USERS, HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    assert "Accorder le statut de super-utilisateur aux utilisateurs sélectionnés" in html
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
    ynerant = User.objects.create_user("ynerant")
    alice = User.objects.create_user("alice")

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
    ynerant = User.objects.create_user("ynerant")
    run_action(browser, "grant_superuser", ynerant)

    history = browser.get(f"{USERS}{ynerant.pk}/history/", HTTP_ACCEPT_LANGUAGE="fr")

    assert "statut super-utilisateur (accordé)" in history.content.decode()


def test_grant_action_on_a_superuser_changes_nothing_and_logs_nothing(browser, root):
    response = run_action(browser, "grant_superuser", root)

    assert "root already has superuser and staff status: unchanged." in shown_messages(response)
    assert not LogEntry.objects.exists()


def test_grant_action_refuses_a_deactivated_account(browser):
    ynerant = User.objects.create_user("ynerant")
    bob = User.objects.create_user("bob", is_active=False)

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
    token = csrf_token(browser, SITES)

    response = browser.post(
        SITES,
        {
            "csrfmiddlewaretoken": token,
            "action": "delete_selected",
            "index": "0",
            "post": "yes",
            "_selected_action": [settings.SITE_ID, other.pk],
        },
    )

    assert "is the current site (SITE_ID): it cannot be deleted." in response.content.decode()
    assert Site.objects.count() == 2
