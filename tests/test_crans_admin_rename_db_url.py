"""Mailman core's database URL is never shown: its host, port and database are, on every path.

Core unreachable (a closed port) or refusing (the test PostgreSQL server, a
database it does not have), through libpq: the admin's rename page for staff
with ``hyperkitty.change_mailinglist``, the command (planning, resuming, rolling
back), the journal's errors and the logs. The URLs hold their secret in every
place a URL can: the user part, ``?password=``, a percent-escape that libpq
refuses and quotes back, a "/" that ends libpq's host part early.
"""

import io
from dataclasses import replace

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from crans_admin.conf import CORE_DB_URL
from crans_admin.models import ListRename
from crans_admin.rename import CoreOptions, MailmanCoreError, RenameError, apply_rename, plan_rename
from crans_admin.rename.mailman_core import CoreRenamePlan, plan_core_rename
from crans_admin.text import database_location, without_url_secrets

OLD = "tresorier@lists.crans.org"
NEW = "tresorerie@lists.crans.org"
SECRET = "Sesame"
# {port}: a closed port. What must show instead of the URL: its location.
URLS = {
    "password in the user part": (
        f"postgresql://mailman:{SECRET}42@127.0.0.1:{{port}}/mailman",
        "mailman on 127.0.0.1:{port}",
    ),
    "?password=": (
        f"postgresql://mailman@127.0.0.1:{{port}}/mailman?password={SECRET}42",
        "mailman on 127.0.0.1:{port}",
    ),
    "bad percent-escape": (
        f"postgresql://mailman:{SECRET}%ZZ@127.0.0.1:{{port}}/mailman",
        "mailman on 127.0.0.1:{port}",
    ),
    "percent-escape": (
        f"postgres://mailman:{SECRET}%2F%40x@127.0.0.1:{{port}}/mailman?connect_timeout=3",
        "mailman on 127.0.0.1:{port}",
    ),
    "a slash in the password": (
        f"postgresql://mailman:{SECRET}/42@127.0.0.1:{{port}}/mailman",
        "? on ?",
    ),
    "an unknown parameter": (
        f"postgresql://mailman@127.0.0.1:{{port}}/mailman?{SECRET}=42",
        "mailman on 127.0.0.1:{port}",
    ),
    "a bad sslmode": (
        f"postgresql://mailman:x@127.0.0.1:{{port}}/mailman?sslmode={SECRET}",
        "mailman on 127.0.0.1:{port}",
    ),
}
NEW_NAMES = {
    "old_list_id": "tresorier.lists.crans.org",
    "new_list_id": "tresorerie.lists.crans.org",
    "new_list_name": "tresorerie",
    "new_mail_host": "lists.crans.org",
    "new_display_name": "Tresorerie",
    "new_subject_prefix": "[Tresorerie] ",
}


def secrets_in(text: str) -> list[str]:
    return [word for word in (SECRET, "%ZZ", "%2F") if word in text]


@pytest.fixture
def var_dir(tmp_path):
    """A folder that looks like core's var dir, so that the plan goes on to the database."""
    folder = tmp_path / "core-var"
    for name in ("lists", "queue"):
        (folder / name).mkdir(parents=True)
    return folder


@pytest.fixture(params=list(URLS), ids=list(URLS))
def core_url(request, closed_port) -> tuple[str, str]:
    """A URL of core's database on a closed port, and its location as it must show."""
    url, location = URLS[request.param]
    return url.format(port=closed_port), location.format(port=closed_port)


def test_the_plan_names_the_database_by_its_location(core_url, var_dir):
    url, location = core_url
    with pytest.raises(MailmanCoreError) as refused:
        plan_core_rename(url, var_dir, **NEW_NAMES)
    message = str(refused.value)
    assert secrets_in(message) == [], message
    assert f"Mailman core's database {location}: " in message


def test_the_postgresql_server_refusing_names_the_database_only(var_dir):
    """The test PostgreSQL server answers, without the database: its own message, no secret."""
    server = connection.settings_dict
    url = (
        f"postgresql://{server['USER']}:{SECRET}42@{server['HOST']}:{server['PORT']}"
        f"/no_core_here?password={SECRET}42"
    )
    with pytest.raises(MailmanCoreError) as refused:
        plan_core_rename(url, var_dir, **NEW_NAMES)
    message = str(refused.value)
    assert secrets_in(message) == [], message
    assert f"no_core_here on {server['HOST']}:{server['PORT']}" in message
    assert 'database "no_core_here" does not exist' in message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://mailman:pw@db.crans.org:5432/mailman3", "mailman3 on db.crans.org:5432"),
        ("postgresql://mailman@/mailman?host=/run/postgresql", "mailman on /run/postgresql"),
        ("postgresql://%2Frun%2Fpostgresql/mailman", "mailman on /run/postgresql"),
        ("postgresql://u:pw@[::1]:5433/mailman", "mailman on [::1]:5433"),
        ("postgresql://u:pw@db1:5432,db2:5433/mailman", "mailman on db1:5432,db2:5433"),
        ("postgresql://u:pw@db", "no database on db"),
        ("postgresql:///mailman", "mailman on the local socket"),
        ("sqlite:////var/lib/mailman3/data/mailman.db", "/var/lib/mailman3/data/mailman.db"),
        ("not a url", "a URL that cannot be read"),
        ("host=db password=pw dbname=mailman", "a URL that cannot be read"),
        ("postgresql://u:pw@d%ZZb/mailman", "mailman on ?"),
        ("postgresql://u:pw@db/ma%27il", "? on db"),
    ],
)
def test_a_location_has_host_port_and_database_only(url, shown):
    assert str(database_location(url)) == shown


def test_a_driver_message_keeps_host_port_and_database_and_nothing_else():
    url = f"postgresql://bob:{SECRET}@db.crans.org:5432/mailman?options=-c%20x%3D{SECRET}"
    message = (
        f'connection to server at "db.crans.org" (10.0.0.1), port 5432 failed: FATAL:  '
        f'password authentication failed for user "bob"; {SECRET} x={SECRET}; database '
        '"mailman"'
    )
    shown = without_url_secrets(message, url)
    assert SECRET not in shown
    assert shown.startswith('connection to server at "db.crans.org" (10.0.0.1), port 5432')
    assert "password authentication failed" in shown
    assert 'database "mailman"' in shown


def test_the_command_names_the_database_by_its_location(
    archives, silent_core, core_url, var_dir, monkeypatch, caplog
):
    url, location = core_url
    monkeypatch.setenv(CORE_DB_URL, url)
    for dry_run in (True, False):
        with pytest.raises(CommandError) as refused:
            call_command(
                "rename_list", OLD, NEW, core_var_dir=var_dir, dry_run=dry_run, stdout=io.StringIO()
            )
        assert secrets_in(str(refused.value)) == []
        assert location in str(refused.value)
    assert secrets_in(caplog.text) == []


@pytest.fixture
def staff_client(archives):
    """Staff (not superuser) allowed to change archived lists, as the issue's attacker."""
    staff = get_user_model().objects.create_user("sam", "sam@crans.org", "pw", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_mailinglist", "change_mailinglist"])
    )
    client = Client()
    client.force_login(staff)
    return client


def test_the_admin_page_names_the_database_by_its_location(
    staff_client, archives, silent_core, core_url, var_dir, settings
):
    url, location = core_url
    settings.CRANS_MAILMAN_CORE_DB_URL = url
    settings.CRANS_MAILMAN_CORE_VAR_DIR = str(var_dir)
    page = reverse("admin:hyperkitty_mailinglist_rename", args=[archives.tresorier.pk])
    answer = staff_client.post(page, {"new_name": NEW})
    assert answer.status_code == 200
    shown = answer.content.decode()
    assert secrets_in(shown) == []
    assert f"Mailman core&#x27;s database {location}" in shown
    assert ListRename.objects.count() == 0


@pytest.fixture
def unreachable_core_plan(archives, silent_core, var_dir, closed_port):
    """A rename whose core side is planned, then whose core becomes unreachable: its URL too."""
    url = f"postgresql://mailman@127.0.0.1:{closed_port}/mailman?password={SECRET}42"
    web = plan_rename(OLD, NEW, core_renamed_separately=True)
    core = CoreRenamePlan(
        db_url=url,
        var_dir=var_dir,
        **{name: value for name, value in NEW_NAMES.items() if name != "new_subject_prefix"},
        new_subject_prefix=None,
        old_list_name="tresorier",
        old_mail_host="lists.crans.org",
        old_display_name="Tresorier",
        old_subject_prefix="[Tresorier] ",
        changes=(),
    )
    plan = replace(web, core=core, core_options=CoreOptions(url, var_dir, force=True))
    return url, plan


def test_journal_errors_logs_and_history_name_the_database_by_its_location(
    unreachable_core_plan, closed_port, monkeypatch, caplog
):
    url, plan = unreachable_core_plan
    location = f"mailman on 127.0.0.1:{closed_port}"
    with caplog.at_level("INFO", logger="crans_admin"), pytest.raises(RenameError) as failed:
        apply_rename(plan, actor="test")
    assert "failed at the step core_rows" in str(failed.value)
    assert location in str(failed.value)
    (rename,) = ListRename.objects.all()
    assert rename.state == ListRename.RUNNING
    assert location in rename.error
    history = io.StringIO()
    call_command("rename_list", "--history", stdout=history)
    # Carrying on with the same URL: refused the same way.
    monkeypatch.setenv(CORE_DB_URL, url)
    for option in ("--resume", "--rollback"):
        with pytest.raises(CommandError) as refused:
            call_command("rename_list", option, stdout=io.StringIO())
        assert location in str(refused.value)
        assert secrets_in(str(refused.value)) == []
    rename.refresh_from_db()
    shown = [str(failed.value), rename.error, history.getvalue(), caplog.text, repr(plan)]
    assert [secrets_in(text) for text in shown] == [[]] * len(shown)


def test_error_reports_hide_core_database_url(settings, rf):
    """A 500 mail to ADMINS lists the settings and, under runserver, the environment."""
    from django.views.debug import ExceptionReporter, get_exception_reporter_filter

    url = "postgresql://mailman:Secret@127.0.0.1:5432/mailman"
    settings.CRANS_MAILMAN_CORE_DB_URL = url
    request = rf.get("/", CRANS_MAILMAN_CORE_DB_URL=url)
    reporter_filter = get_exception_reporter_filter(request)
    assert reporter_filter.get_safe_settings()["CRANS_MAILMAN_CORE_DB_URL"] != url
    assert reporter_filter.get_safe_request_meta(request)["CRANS_MAILMAN_CORE_DB_URL"] != url
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        report = ExceptionReporter(request, type(error), error, error.__traceback__)
        assert "Secret" not in report.get_traceback_text()
