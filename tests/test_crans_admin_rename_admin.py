"""The admin's rename page of an archived list: form -> dry-run report -> confirmation."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from hyperkitty.models import MailingList

from crans_admin.models import ListRename
from tests.fixtures.archives import message, nothing_changes, search
from tests.fixtures.archives import snapshot_without_journal as snapshot_database

OLD = "tresorier@lists.crans.org"
NEW = "tresorerie@lists.crans.org"
# No core serves the list here: web-only renames say that core is renamed apart.
SEPARATELY = {"core_renamed_separately": "on"}


pytestmark = pytest.mark.usefixtures("silent_core")


@pytest.fixture
def admin_client_csrf(archives):
    """A superuser's browser, with CSRF checks on as in production."""
    user = get_user_model().objects.create_superuser("root", "root@crans.org", "root-password")
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def rename_url(mailing_list) -> str:
    return reverse("admin:hyperkitty_mailinglist_rename", args=[mailing_list.pk])


def csrf_post(client, url, data):
    """POST ``data`` with the CSRF token the page's form carries."""
    page = client.get(url)
    assert page.status_code == 200
    token = page.context["csrf_token"]
    return client.post(url, {**data, "csrfmiddlewaretoken": str(token)})


def confirm(client, url, report, data, **headers):
    """Confirm the rename that ``report`` shows: ``data`` again, with its digest and CSRF token."""
    return client.post(
        url,
        {
            **data,
            "digest": report.context["digest"],
            "confirm": "1",
            "csrfmiddlewaretoken": str(report.context["csrf_token"]),
        },
        **headers,
    )


def test_change_page_links_to_the_rename_page(admin_client_csrf, archives):
    tresorier = archives.tresorier
    page = admin_client_csrf.get(
        reverse("admin:hyperkitty_mailinglist_change", args=[tresorier.pk])
    )
    assert page.status_code == 200
    assert f'href="{rename_url(tresorier)}"' in page.content.decode()


def test_report_then_confirmation_renames_and_logs(admin_client_csrf, archives):
    tresorier = archives.tresorier
    url = rename_url(tresorier)
    before = snapshot_database()

    report = csrf_post(
        admin_client_csrf,
        url,
        {"new_name": "tresorerie.lists.crans.org", "display_name": "", **SEPARATELY},
    )

    assert report.status_code == 200
    assert snapshot_database() == before, "the report changes nothing"
    shown = report.content.decode()
    assert "Confirm the rename" in shown
    assert f"hyperkitty_mailinglist #{tresorier.pk}: name &#x27;{OLD}&#x27; -&gt; &#x27;{NEW}" in (
        shown
    )
    assert "postorius_emailtemplate: 2 row(s)" in shown
    digest = report.context["digest"]

    done = admin_client_csrf.post(
        url,
        {
            "new_name": "tresorerie.lists.crans.org",
            "display_name": "",
            "allow_new_domain": "False",
            **SEPARATELY,
            "digest": digest,
            "confirm": "Confirm the rename",
            "csrfmiddlewaretoken": str(report.context["csrf_token"]),
        },
    )

    assert done.status_code == 302
    assert done["Location"] == reverse("admin:hyperkitty_mailinglist_change", args=[tresorier.pk])
    mailing_list = MailingList.objects.get(pk=tresorier.pk)
    assert (mailing_list.name, mailing_list.display_name) == (NEW, "Tresorerie")
    assert search(NEW) == archives.word_count
    assert search(OLD) == 0
    entry = LogEntry.objects.get(object_id=str(tresorier.pk))
    assert entry.action_flag == CHANGE
    assert entry.user.username == "root"
    assert entry.change_message == f"Renamed {OLD} to {NEW}."
    followed = admin_client_csrf.get(done["Location"])
    assert f"Renamed {OLD} to {NEW}; 5 email(s) reindexed." in followed.content.decode()


def test_post_without_csrf_token_is_refused(admin_client_csrf, archives):
    with nothing_changes():
        response = admin_client_csrf.post(
            rename_url(archives.tresorier), {"new_name": NEW, "confirm": "1", "digest": "x"}
        )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("new_name", "error"),
    [
        ("bureau@lists.crans.org", "already exists and has archived emails"),
        ("tré sor@lists.crans.org", "Invalid list name"),
        (OLD, "are the same list"),
        ("tresorerie@crans.fr", "knows no mail domain"),
    ],
)
def test_refusals_are_form_errors(admin_client_csrf, archives, new_name, error):
    with nothing_changes():
        response = csrf_post(
            admin_client_csrf, rename_url(archives.tresorier), {"new_name": new_name}
        )
    assert response.status_code == 200
    assert any(error in message for message in response.context["form"].non_field_errors())
    assert "Confirm the rename" not in response.content.decode()


def test_a_report_overtaken_by_new_emails_must_be_confirmed_again(admin_client_csrf, archives):
    from hyperkitty.lib.incoming import add_to_list

    url = rename_url(archives.tresorier)
    report = csrf_post(admin_client_csrf, url, {"new_name": NEW, **SEPARATELY})
    add_to_list(OLD, message(6, "Nouveau", "Un message arrivé entre-temps."))

    response = confirm(admin_client_csrf, url, report, {"new_name": NEW, **SEPARATELY})

    assert response.status_code == 200
    assert "changed since the report was shown" in response.content.decode()
    assert "6 email(s)" in response.content.decode()
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == OLD


def test_staff_without_change_permission_is_refused(archives):
    staff = get_user_model().objects.create_user("staff", "staff@crans.org", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_mailinglist"))
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.get(rename_url(archives.tresorier)).status_code == 403


def test_anonymous_and_non_staff_users_go_to_the_login_page(archives):
    url = rename_url(archives.tresorier)
    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))
    member = Client()
    member.force_login(archives.alice)
    response = member.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_unknown_list_is_404(admin_client_csrf):
    response = admin_client_csrf.get(reverse("admin:hyperkitty_mailinglist_rename", args=[999999]))
    assert response.status_code == 404


def test_the_page_and_its_errors_speak_french(admin_client_csrf, archives):
    url = rename_url(archives.tresorier)
    page = admin_client_csrf.get(url, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Voir les changements" in page.content.decode()
    refused = admin_client_csrf.post(
        url,
        {
            "new_name": "tré sor@lists.crans.org",
            "csrfmiddlewaretoken": str(page.context["csrf_token"]),
        },
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert "Nom de liste invalide" in refused.content.decode()
    report = admin_client_csrf.post(
        url,
        {"new_name": NEW, **SEPARATELY, "csrfmiddlewaretoken": str(page.context["csrf_token"])},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    shown = report.content.decode()
    assert "Confirmer le renommage" in shown
    assert "postorius_emailtemplate : 2 ligne(s)" in shown


def test_core_side_when_the_settings_name_it(admin_client_csrf, archives, mailman_core, settings):
    core = mailman_core
    settings.MAILMAN_REST_API_URL = core.rest_url
    settings.CRANS_MAILMAN_CORE_DB_URL = core.database_url
    settings.CRANS_MAILMAN_CORE_VAR_DIR = str(core.var_dir)
    core.create_list_with_member("tresorier@lists.crans.org", "alice@crans.org")
    url = rename_url(archives.tresorier)

    running = csrf_post(admin_client_csrf, url, {"new_name": NEW})
    assert "REST API answers" in " ".join(running.context["form"].non_field_errors())

    core.stop()
    report = csrf_post(admin_client_csrf, url, {"new_name": NEW})
    assert any(line.startswith("Mailman core: ") for line in report.context["report"])
    done = confirm(admin_client_csrf, url, report, {"new_name": NEW})
    assert done.status_code == 302
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == NEW
    followed = admin_client_csrf.get(done["Location"])
    assert "Run `mailman aliases`, then start Mailman core." in followed.content.decode()
    core.start()
    renamed = core.client().get_list("tresorerie.lists.crans.org")
    assert [member.email for member in renamed.members] == ["alice@crans.org"]


def test_a_web_only_rename_needs_to_be_told_that_core_is_renamed_apart(admin_client_csrf, archives):
    response = csrf_post(admin_client_csrf, rename_url(archives.tresorier), {"new_name": NEW})
    errors = " ".join(response.context["form"].non_field_errors())
    assert "Cannot ask Mailman core's REST API" in errors
    assert "say that core is renamed separately" in errors
    # The page has no field for core's side: the error names the settings, and the box.
    assert (
        "in the same run (the settings CRANS_MAILMAN_CORE_DB_URL and CRANS_MAILMAN_CORE_VAR_DIR)"
        in errors
    )
    assert "(the box “Mailman core is renamed separately”)" in errors
    assert "--core" not in errors


def test_the_confirmation_holds_across_a_change_of_language(admin_client_csrf, archives, caplog):
    """The digest is built from the plan's data, the log is in English."""
    url = rename_url(archives.tresorier)
    report = csrf_post(admin_client_csrf, url, {"new_name": NEW, **SEPARATELY})
    with caplog.at_level("INFO", logger="crans_admin"):
        data = {"new_name": NEW, **SEPARATELY}
        done = confirm(admin_client_csrf, url, report, data, HTTP_ACCEPT_LANGUAGE="fr")
    assert done.status_code == 302
    assert MailingList.objects.get(pk=archives.tresorier.pk).name == NEW
    (record,) = [r for r in caplog.records if "renamed to" in r.getMessage()]
    assert "postorius_emailtemplate: 2 row(s)" in record.getMessage()
    assert "ligne" not in record.getMessage()


def test_an_unfinished_rename_is_shown_and_blocks_another(admin_client_csrf, archives):
    ListRename.objects.create(
        mailing_list_id=archives.tresorier.pk,
        old_name=OLD,
        old_list_id="tresorier.lists.crans.org",
        new_name=NEW,
        new_list_id="tresorerie.lists.crans.org",
        plan={},
        actor="root through the rename_list command",
    )
    response = csrf_post(
        admin_client_csrf, rename_url(archives.tresorier), {"new_name": NEW, **SEPARATELY}
    )
    assert "is unfinished: resume it" in " ".join(response.context["form"].non_field_errors())
    change = admin_client_csrf.get(
        reverse("admin:hyperkitty_mailinglist_change", args=[archives.tresorier.pk])
    ).content.decode()
    assert 'id="list-renames"' in change
    assert "rename_list --resume" in change


def test_a_var_dir_setting_with_a_typo_is_a_form_error(admin_client_csrf, archives, settings):
    settings.CRANS_MAILMAN_CORE_DB_URL = "postgresql://mailman@127.0.0.1:1/mailman"
    settings.CRANS_MAILMAN_CORE_VAR_DIR = "/var/lib/mailman3-typo"
    with nothing_changes():
        response = csrf_post(admin_client_csrf, rename_url(archives.tresorier), {"new_name": NEW})
    assert "/var/lib/mailman3-typo is not a folder" in " ".join(
        response.context["form"].non_field_errors()
    )
