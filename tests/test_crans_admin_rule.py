"""The admin-wide rule, tried on every registered admin as a staff user would.

For each model registered in the admin (by whichever app), a staff user who
is not superuser is given every permission of that model, and tries its
pages as a browser does (CSRF on): a superuser-only model's pages all answer
403; a row of a staff or superuser account (another's or their own) is
read-only, cannot be deleted, acted on or given to such an account; what is
delegated still works. The list of admins is read from the admin site itself,
so the next upstream admin is tried too (and fails here until classified).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.contrib.messages import get_messages
from django.core import checks
from django.test import Client
from django.urls import URLPattern, reverse

from crans_admin.admin.policy import POLICIES, Kind, is_classified, policy_for
from tests.admin_pages import (
    MAKERS,
    SAVE,
    admin_url,
    change_form,
    csrf_token,
    form_data,
    give,
    make,
    model_permissions,
    snapshot,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("silent_core")]

REGISTERED = {model._meta.label: model for model in admin.site._registry}


def labels(kind: Kind) -> list[str]:
    return sorted(label for label, model in REGISTERED.items() if policy_for(model).kind is kind)


REFUSED = "belongs to a staff or superuser account"
NOTHING_DONE = "Nothing was done:"


@pytest.fixture
def root() -> User:
    return User.objects.create_superuser("root", "root@crans.org", "secret")


@pytest.fixture
def other_staff() -> User:
    return User.objects.create_user("moderator", "moderator@crans.org", is_staff=True)


@pytest.fixture
def alice() -> User:
    return User.objects.create_user("alice", "alice@example.org", "alice-password")


def staff_client(*models, through_group: bool = False) -> tuple[User, Client]:
    """A staff user (not superuser) given every permission of ``models``, and its browser."""
    staff = User.objects.create_user("sam", "sam@example.org", "sam-password", is_staff=True)
    give(staff, model_permissions(*models), through_group=through_group)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    return staff, client


def post(client: Client, url: str, data: dict) -> object:
    return client.post(url, {**data, "csrfmiddlewaretoken": csrf_token(client)})


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def app_list_labels(client: Client) -> set[str]:
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return {
        f"{app['app_label']}.{model['object_name']}"
        for app in response.context["app_list"]
        for model in app["models"]
    }


def every_url(model, row) -> list[str]:
    """Every named URL of ``model``'s admin (custom ones included), for ``row``."""
    model_admin = admin.site._registry[model]
    urls = []
    for pattern in model_admin.get_urls():
        if not isinstance(pattern, URLPattern) or not pattern.name:
            continue
        kwargs = {name: str(row.pk) for name in pattern.pattern.converters}
        urls.append(reverse(f"admin:{pattern.name}", kwargs=kwargs))
    return urls


def test_every_registered_admin_is_classified_and_under_the_rule():
    assert REGISTERED, "no admin registered?"
    assert [label for label, model in REGISTERED.items() if not is_classified(model)] == []
    for model, model_admin in admin.site._registry.items():
        assert model_admin.crans_policy == POLICIES[model._meta.label]
    assert [m.id for m in checks.run_checks() if m.id in ("crans.W001", "crans.W002")] == []
    # Each registered model can be tried below.
    assert set(REGISTERED) <= set(MAKERS)


def warned(check_id: str) -> set[str]:
    return {
        message.obj.model._meta.label for message in checks.run_checks() if message.id == check_id
    }


def test_an_admin_nobody_classified_is_superuser_only_and_named_by_the_check(monkeypatch, rf):
    """As the next upstream admin would be: registered, not classified."""
    from django_mailman3.models import Profile

    from crans_admin.admin.site import CransAdminSite

    monkeypatch.delitem(POLICIES, "django_mailman3.Profile")
    site = CransAdminSite(name="next-upstream")
    site.register(Profile)
    staff, _client = staff_client(Profile)
    request = rf.get("/")
    request.user = staff

    assert "django_mailman3.Profile" in warned("crans.W001")
    model_admin = site._registry[Profile]
    assert model_admin.crans_policy.kind is Kind.SUPERUSER_ONLY
    assert staff.has_perm("django_mailman3.view_profile")
    assert not model_admin.has_view_permission(request)
    assert not model_admin.has_module_permission(request)
    site.unregister(Profile)  # the site lives on until the garbage collector frees it


def test_an_admin_on_another_admin_site_is_named_by_the_check():
    from django.contrib.admin.models import LogEntry
    from django.contrib.admin.sites import AdminSite

    other = AdminSite(name="elsewhere")
    other.register(LogEntry)
    try:
        assert "admin.LogEntry" in warned("crans.W002")
    finally:
        # The site lives on until the garbage collector frees it: leave it empty.
        other.unregister(LogEntry)
    assert "admin.LogEntry" not in warned("crans.W002")


@pytest.mark.parametrize("label", labels(Kind.SUPERUSER_ONLY))
def test_superuser_only_admin_refuses_staff_with_all_its_permissions(label, root):
    model = REGISTERED[label]
    row = make(label, root)
    superuser = Client()
    superuser.force_login(root)
    add_page = superuser.get(admin_url(model, "add"))
    add_data = {**form_data(add_page.content.decode(), f"{model._meta.model_name}_form"), **SAVE}
    change_data = change_form(superuser, row) if add_page.status_code == 200 else dict(SAVE)
    before, count = snapshot(row), model._default_manager.count()
    staff, client = staff_client(model)

    assert label not in app_list_labels(client)
    for url in every_url(model, row):
        assert client.get(url).status_code == 403, url
    assert post(client, admin_url(model, "add"), add_data).status_code == 403
    assert post(client, admin_url(model, "change", row.pk), change_data).status_code == 403
    assert post(client, admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    action = {"action": "delete_selected", "post": "yes", "_selected_action": [row.pk]}
    assert post(client, admin_url(model, "changelist"), action).status_code == 403
    assert snapshot(row) == before
    assert model._default_manager.count() == count
    # The superuser's pages work (the refusals above are the rule's).
    assert superuser.get(admin_url(model, "changelist")).status_code == 200
    assert superuser.get(admin_url(model, "change", row.pk)).status_code == 200


def owner_field(label: str) -> str | None:
    owner = POLICIES[label].owner
    return owner.split("__")[0] if owner else None


@pytest.mark.parametrize("label", labels(Kind.OWNED))
@pytest.mark.parametrize("whose", ["superuser", "other staff", "own"])
def test_privileged_accounts_rows_are_read_only_for_staff_with_all_permissions(
    label, whose, root, other_staff, alice
):
    model = REGISTERED[label]
    staff, client = staff_client(model)
    owner = {"superuser": root, "other staff": other_staff, "own": staff}[whose]
    row, members = make(label, owner), make(label, alice)
    before = snapshot(row)
    # What the member's page posts, sent to the privileged row's URL instead.
    forged = change_form(client, members)
    if owner_field(label):
        forged[owner_field(label)] = str(owner.pk)
    elif label == "auth.User":
        forged["username"] = owner.username

    page = client.get(admin_url(model, "change", row.pk))
    changed = post(client, admin_url(model, "change", row.pk), forged)
    deleted = post(client, admin_url(model, "delete", row.pk), {"post": "yes"})
    history = client.get(admin_url(model, "history", row.pk))

    assert page.status_code == 200  # viewed, read-only
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is False
    assert changed.status_code == 403
    assert deleted.status_code == 403
    assert history.status_code == 200
    assert snapshot(row) == before
    if label == "auth.User":
        password = post(
            client,
            reverse("admin:auth_user_password_change", args=[row.pk]),
            {"password1": "taken-over-1", "password2": "taken-over-1"},
        )
        assert password.status_code == 403
        assert snapshot(row) == before


@pytest.mark.parametrize("label", labels(Kind.OWNED))
def test_every_action_refuses_a_selection_with_a_privileged_accounts_row(label, root, alice):
    model = REGISTERED[label]
    staff, client = staff_client(model)
    row, members = make(label, root), make(label, alice)
    before, members_before = snapshot(row), snapshot(members)
    page = client.get(admin_url(model, "changelist"))
    choices = page.context["action_form"].fields["action"].choices
    actions = [name for name, _description in choices if name]
    assert actions, "no action to try"

    selection = [row.pk, members.pk]
    for action in actions:
        response = post(
            client,
            admin_url(model, "changelist"),
            {"action": action, "index": "0", "post": "yes", "_selected_action": selection},
        )
        assert response.status_code == 302, action
        assert any(NOTHING_DONE in message for message in messages_of(response)), action
        assert snapshot(row) == before, action
        assert snapshot(members) == members_before, action


@pytest.mark.parametrize("label", [label for label in labels(Kind.OWNED) if owner_field(label)])
@pytest.mark.parametrize("onto", ["superuser", "own"])
def test_no_row_is_given_to_a_privileged_account(label, onto, root, alice):
    model = REGISTERED[label]
    staff, client = staff_client(model)
    owner = {"superuser": root, "own": staff}[onto]
    members = make(label, alice)
    before, count = snapshot(members), model._default_manager.count()
    data = change_form(client, members)
    data[owner_field(label)] = str(owner.pk)

    moved = post(client, admin_url(model, "change", members.pk), data)
    added = post(client, admin_url(model, "add"), data)

    for response in (moved, added):
        assert response.status_code == 200
        assert REFUSED in response.content.decode()
    assert snapshot(members) == before
    assert model._default_manager.count() == count


@pytest.mark.parametrize("label", labels(Kind.OWNED))
def test_members_rows_stay_delegated(label, alice):
    model = REGISTERED[label]
    staff, client = staff_client(model)
    members = make(label, alice)

    response = post(client, admin_url(model, "change", members.pk), change_form(client, members))

    assert response.status_code == 302
    assert label in app_list_labels(client)


def test_staff_saves_a_members_account_but_grants_no_privilege(alice):
    staff, client = staff_client(User, Permission)
    data = change_form(client, alice)
    data.update(is_staff="on", is_superuser="on", first_name="Alice")

    response = post(client, admin_url(User, "change", alice.pk), data)

    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.first_name, alice.is_staff, alice.is_superuser) == ("Alice", False, False)
    assert not alice.user_permissions.exists() and not alice.groups.exists()


def another_value(row, name: str) -> str:
    """A valid value of the field ``name`` other than ``row``'s."""
    field = row._meta.get_field(name)
    if field.is_relation:
        return str(make(field.related_model._meta.label).pk)
    return str(next(value for value, _label in field.choices if value != getattr(row, name)))


@pytest.mark.parametrize("label", labels(Kind.DELEGABLE))
def test_delegable_admins_work_for_staff_but_reserved_fields_stay(label):
    model = REGISTERED[label]
    row = make(label)
    staff, client = staff_client(model)
    data = change_form(client, row)
    reserved = POLICIES[label].superuser_fields
    for name in reserved:
        assert name not in data  # read-only
        data[name] = another_value(row, name)
    before = snapshot(row)

    response = post(client, admin_url(model, "change", row.pk), data)

    assert response.status_code == 302
    assert label in app_list_labels(client)
    after = snapshot(row)
    for name in reserved:
        attname = row._meta.get_field(name).attname
        assert after[attname] == before[attname], name


def test_deleting_a_thread_takes_the_superusers_votes_and_favourites_with_it(root):
    from hyperkitty.models import Email, Favorite, Thread, Vote

    vote = make("hyperkitty.Vote", root)
    thread = vote.email.thread
    Favorite.objects.create(thread=thread, user=root)
    staff, client = staff_client(Thread, Email, Vote, Favorite)

    response = post(client, admin_url(Thread, "delete", thread.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Thread.objects.filter(pk=thread.pk).exists()
    assert not Vote.objects.filter(pk=vote.pk).exists()


def test_permissions_given_through_a_group_open_nothing_either(root):
    """Every permission there is, through a group: the rule is checked at use."""
    staff, client = staff_client(*REGISTERED.values(), through_group=True)
    for label, model in sorted(REGISTERED.items()):
        policy = policy_for(model)
        if policy.superuser_only:
            assert client.get(admin_url(model, "changelist")).status_code == 403, label
        elif policy.owned:
            row = make(label, root)
            page = client.get(admin_url(model, "change", row.pk))
            assert page.context["has_change_permission"] is False, label
            assert (
                post(client, admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
            )


def test_lookups_show_nothing_of_superuser_only_models(root):
    """Autocomplete and raw-id popups, for every relation to a registered model."""
    staff, client = staff_client(*REGISTERED.values())
    for label, model in sorted(REGISTERED.items()):
        if not policy_for(model).superuser_only:
            continue
        make(label, root)
        popup = client.get(admin_url(model, "changelist"), {"_popup": "1", "_to_field": "id"})
        assert popup.status_code == 403, label
        for source in REGISTERED.values():
            for field in source._meta.get_fields():
                if getattr(field, "related_model", None) is not model or not field.concrete:
                    continue
                response = client.get(
                    reverse("admin:autocomplete"),
                    {
                        "app_label": source._meta.app_label,
                        "model_name": source._meta.model_name,
                        "field_name": field.name,
                    },
                )
                assert response.status_code in (403, 404), (label, source, field.name)


def test_refusals_are_in_french(root, alice):
    from allauth.account.models import EmailAddress

    staff, client = staff_client(EmailAddress)
    members = make("account.EmailAddress", alice)
    data = change_form(client, members)
    data["user"] = str(root.pk)
    roots = make("account.EmailAddress", root)
    action = {"action": "delete_selected", "index": "0", "_selected_action": [roots.pk]}
    token = csrf_token(client)

    moved = client.post(
        admin_url(EmailAddress, "change", members.pk),
        {**data, "csrfmiddlewaretoken": token},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    acted = client.post(
        admin_url(EmailAddress, "changelist"),
        {**action, "csrfmiddlewaretoken": token},
        HTTP_ACCEPT_LANGUAGE="fr",
    )

    assert "appartient à un compte équipe ou super-utilisateur (root)" in moved.content.decode()
    assert any("Rien n'a été fait : 1 ligne sélectionnée" in m for m in messages_of(acted))


def test_the_documentation_lists_each_models_policy():
    from pathlib import Path

    page = Path(__file__).resolve().parent.parent / "docs" / "administration.md"
    rows = {
        cells[0].strip("`"): cells[1]
        for line in page.read_text().splitlines()
        if line.startswith("| `")
        and (cells := [c.strip() for c in line.strip("|").split("|")])
        and "." in cells[0]
        and len(cells) == 2
    }

    assert rows == {label: policy.describe() for label, policy in POLICIES.items()}


def test_staff_changes_their_own_password_where_the_old_one_is_asked():
    staff, client = staff_client(User)
    url = reverse("admin:password_change")

    response = post(
        client,
        url,
        {
            "old_password": "sam-password",
            "new_password1": "n3w-Passw0rd",
            "new_password2": "n3w-Passw0rd",
        },
    )

    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("n3w-Passw0rd")
