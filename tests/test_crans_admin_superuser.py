"""crans_grant_superuser: superuser and staff status from the command line."""

import logging
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from crans_admin.superusers import LastSuperuserError, change_superusers
from tests.fixtures.members import crans_member

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent


def grant(*args: str, verbosity: int = 1) -> str:
    """Run crans_grant_superuser; return its stdout."""
    stdout = StringIO()
    call_command("crans_grant_superuser", *args, stdout=stdout, verbosity=verbosity)
    return stdout.getvalue()


def status(username: str) -> tuple[bool, bool, bool]:
    """(is_superuser, is_staff, is_active) of ``username``, read from the database."""
    return User.objects.values_list("is_superuser", "is_staff", "is_active").get(username=username)


@pytest.fixture
def users():
    """Three CAS members (one deactivated), and a local superuser."""
    crans_member("ynerant", "ynerant@crans.org")
    alice = crans_member("alice", "alice@example.org")
    EmailAddress.objects.create(user=alice, email="alice@crans.org", verified=True)
    crans_member("bob", "bob@crans.org", is_active=False)
    User.objects.create_superuser("root", "root@crans.org")


def test_grant_sets_superuser_and_staff(users):
    stdout = grant("ynerant")

    assert status("ynerant") == (True, True, True)
    assert stdout == "ynerant now has superuser and staff status.\n"


def test_grant_several_users(users):
    stdout = grant("ynerant", "alice")

    assert status("ynerant") == status("alice") == (True, True, True)
    assert "ynerant now has" in stdout and "alice now has" in stdout


def test_grant_twice_changes_nothing_and_says_so(users):
    grant("ynerant")
    stdout = grant("ynerant", "ynerant")

    assert stdout == "ynerant already has superuser and staff status: nothing changed.\n"


def test_grant_completes_a_superuser_without_staff(users):
    User.objects.filter(username="ynerant").update(is_superuser=True)

    stdout = grant("ynerant")

    assert status("ynerant") == (True, True, True)
    assert "ynerant now has superuser and staff status." in stdout


def test_unknown_users_are_all_named_with_close_matches_and_nobody_changes(users):
    with pytest.raises(CommandError) as raised:
        grant("ynerant", "ynerand", "Alice2", "zzzz")

    message = str(raised.value)
    assert "No account is connected to the CAS username 'ynerand', 'Alice2', 'zzzz'." in message
    assert "'ynerand': maybe 'ynerant'" in message
    assert "'Alice2': maybe 'alice'" in message
    assert "'zzzz': maybe" not in message
    assert "first logs in through the CAS" in message
    assert "Nobody was changed." in message
    assert status("ynerant") == (False, False, True)


def test_grant_by_email_address_of_the_user(users):
    stdout = grant("--email", "YNERANT@crans.org")

    assert status("ynerant") == (True, True, True)
    assert "ynerant now has" in stdout


def test_grant_by_allauth_email_address(users):
    grant("--email", "alice@crans.org")

    assert status("alice") == (True, True, True)


def test_unknown_email_address_is_refused_with_close_matches(users):
    with pytest.raises(CommandError) as raised:
        grant("--email", "ynerant@crans.org", "alice@crans.ogr")

    message = str(raised.value)
    assert "No account has verified the address 'alice@crans.ogr'." in message
    assert "maybe 'alice@crans.org'" in message
    assert "Nobody was changed." in message
    assert status("ynerant") == (False, False, True)


def test_email_address_held_unverified_selects_nobody(users):
    # Someone added a member's address to their own account, without proving it.
    mallory = User.objects.create_user("mallory", "mallory@example.net")
    EmailAddress.objects.create(user=mallory, email="carol@crans.org", verified=False)
    User.objects.create_user("eve", "carol@crans.org")  # User.email alone proves nothing either

    with pytest.raises(CommandError, match="No account has verified the address 'carol@crans.org'"):
        grant("--email", "carol@crans.org")

    assert status("mallory") == status("eve") == (False, False, True)


def test_email_address_verified_by_several_accounts_is_refused_naming_them():
    # allauth's constraint exists only with ACCOUNT_UNIQUE_EMAIL; a site without it
    # (dropped here, inside the test's transaction) can hold this.
    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX unique_verified_email")
    crans_member("alice", "alice@crans.org")
    crans_member("alice2", "alice@crans.org")

    with pytest.raises(CommandError) as raised:
        grant("--email", "alice@crans.org")

    assert "is verified by several accounts (alice, alice2)" in str(raised.value)
    assert status("alice")[0] is False
    assert status("alice2")[0] is False


@pytest.fixture
def erin():
    """A local account took the username erin before the member erin first logged in."""
    squatter = User.objects.create_user("erin", "erin@example.net")
    real = crans_member("erin", "erin@crans.org", username="erin4")
    return squatter, real


def test_name_is_the_cas_username_not_the_local_username(users, erin):
    stdout = grant("erin")

    assert status("erin4") == (True, True, True)
    assert status("erin") == (False, False, True)
    assert stdout == "erin4 (CAS account erin) now has superuser and staff status.\n"


def test_local_selects_a_local_account_by_username(users, erin):
    stdout = grant("--local", "erin")

    assert status("erin") == (True, True, True)
    assert status("erin4") == (False, False, True)
    assert stdout == "erin now has superuser and staff status.\n"


def test_local_refuses_an_account_connected_to_the_cas(users, erin):
    with pytest.raises(CommandError) as raised:
        grant("--local", "erin4")

    assert "'erin4' is connected to a CAS account ('erin')" in str(raised.value)
    assert status("erin4") == (False, False, True)


def test_local_account_is_not_selected_without_local(users):
    User.objects.create_user("admin2")

    with pytest.raises(CommandError) as raised:
        grant("admin2")

    message = str(raised.value)
    assert "No account is connected to the CAS username 'admin2'." in message
    assert "'admin2': a local account of that username exists" in message
    assert "give --local" in message
    assert status("admin2") == (False, False, True)


def test_deactivated_account_is_refused_and_nobody_changes(users):
    with pytest.raises(CommandError) as raised:
        grant("ynerant", "bob")

    assert "The account 'bob' is deactivated. Nobody was changed." in str(raised.value)
    assert "--activate" in str(raised.value)
    assert status("bob") == (False, False, False)
    assert status("ynerant") == (False, False, True)


def test_activate_reactivates_and_grants(users):
    stdout = grant("--activate", "bob")

    assert status("bob") == (True, True, True)
    assert "bob's account is active again." in stdout


def test_revoke_removes_superuser_and_staff(users):
    grant("ynerant")

    stdout = grant("--revoke", "ynerant")

    assert status("ynerant") == (False, False, True)
    assert stdout == "ynerant no longer has superuser or staff status.\n"


def test_revoke_removes_staff_alone(users):
    User.objects.filter(username="alice").update(is_staff=True)

    grant("--revoke", "alice")

    assert status("alice") == (False, False, True)


def test_revoke_twice_changes_nothing_and_says_so(users):
    stdout = grant("--revoke", "ynerant")

    assert stdout == "ynerant has neither superuser nor staff status: nothing changed.\n"


def test_revoke_of_the_last_superuser_is_refused(users):
    with pytest.raises(CommandError) as raised:
        grant("--revoke", "--local", "root")

    assert "'root' is the last active superuser" in str(raised.value)
    assert "Grant superuser status to another user first." in str(raised.value)
    assert status("root") == (True, True, True)


def test_revoke_of_all_remaining_superusers_together_is_refused(users):
    grant("ynerant")
    # A deactivated superuser cannot log in: it does not count.
    User.objects.filter(username="bob").update(is_superuser=True)

    with pytest.raises(LastSuperuserError, match="are the last active superusers"):
        with transaction.atomic():
            change_superusers(
                User.objects.filter(username__in=["ynerant", "root"]), grant=False, actor="test"
            )

    assert status("ynerant") == status("root") == (True, True, True)


def test_revoke_one_of_two_superusers_is_allowed(users):
    grant("ynerant")

    grant("--revoke", "--local", "root")

    assert status("root") == (False, False, True)


def test_dry_run_writes_nothing(users):
    stdout = grant("--dry-run", "ynerant")

    assert stdout == (
        "Dry run: nothing is written.\nynerant would have superuser and staff status.\n"
    )
    assert status("ynerant") == (False, False, True)


def test_dry_run_of_a_revocation_says_what_would_change(users):
    grant("alice")

    stdout = grant("--revoke", "--dry-run", "alice")

    assert stdout == (
        "Dry run: nothing is written.\nalice would no longer have superuser or staff status.\n"
    )
    assert status("alice") == (True, True, True)


def test_dry_run_of_a_reactivation_says_what_would_change(users):
    stdout = grant("--activate", "--dry-run", "bob")

    assert "bob would have superuser and staff status." in stdout
    assert "bob's account would be active again." in stdout
    assert status("bob") == (False, False, False)


def test_dry_run_says_would_in_french(users):
    grant("alice")

    with translation.override("fr"):
        revoked = grant("--revoke", "--dry-run", "alice")
        granted = grant("--dry-run", "ynerant")

    assert revoked == (
        "Simulation : rien n'est écrit.\n"
        "alice n'aurait plus les statuts super-utilisateur et équipe.\n"
    )
    assert granted.endswith("ynerant aurait les statuts super-utilisateur et équipe.\n")
    assert status("alice") == (True, True, True)


def test_help_is_one_line():
    from crans_admin.management.commands.crans_grant_superuser import Command

    assert "\n" not in Command.help and len(Command.help) <= 100


def test_verbosity_0_prints_nothing(users):
    assert grant("ynerant", verbosity=0) == ""
    assert status("ynerant") == (True, True, True)


def test_list_shows_superusers_and_staff(users):
    User.objects.filter(username="alice").update(is_staff=True)
    User.objects.filter(username="bob").update(is_superuser=True, is_staff=True)

    lines = grant("--list").splitlines()

    assert [line.split()[0] for line in lines] == ["alice", "bob", "root"]
    assert "staff" in lines[0] and "superuser" not in lines[0]
    assert "superuser, staff, deactivated" in lines[1]
    assert lines[1].split()[-2:] == ["bob", "bob@crans.org"]
    assert lines[2].endswith("(local account)  root@crans.org")


def test_list_without_anyone():
    assert grant("--list") == "No user has superuser or staff status.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Give at least one CAS username"),
        (("--list", "ynerant"), "--list takes no username"),
        (("--list", "--revoke"), "--list takes no username and no other option"),
        (("--revoke", "--activate", "bob"), "--activate only goes with granting"),
        (("--local", "--email", "ynerant"), "not allowed with argument"),
    ],
)
def test_bad_option_combinations_are_refused(users, args, message):
    with pytest.raises(CommandError, match=message):
        grant(*args)

    assert list(User.objects.filter(is_superuser=True).values_list("username", flat=True)) == [
        "root"
    ]


def test_changes_are_logged_with_who_ran_the_command(users, caplog, monkeypatch):
    monkeypatch.setenv("SUDO_USER", "ynerant")
    caplog.set_level(logging.INFO, logger="crans_admin")

    grant("alice")

    [record] = [r for r in caplog.records if r.name == "crans_admin.superusers"]
    assert "User 'alice' changed by" in record.getMessage()
    assert "(sudo from ynerant) through the crans_grant_superuser command" in record.getMessage()
    assert "is_superuser=True, is_staff=True" in record.getMessage()


def mailman_web(*args: str, local_dir: Path, config_dir: Path):
    """Run the ``mailman-web`` script as Crans does: settings from ``MAILMAN_WEB_CONFIG``."""
    config = config_dir / "mailman_web_config.py"
    config.write_text("from crans_mailman_web_settings.local import *  # noqa: F403\n")
    inherited = ("DJANGO_SETTINGS_MODULE", "MAILMAN_WEB_BASE_DIR")
    environment = {key: value for key, value in os.environ.items() if key not in inherited}
    environment |= {
        "MAILMAN_WEB_CONFIG": str(config),
        "MAILMAN_WEB_LOCAL_DIR": str(local_dir),
        "PYTHONPATH": str(REPO),  # the settings of the clone (installed ones are tested apart)
    }
    return subprocess.run(
        [str(Path(sys.executable).parent / "mailman-web"), *args],
        cwd=config_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_command_runs_through_manage_py_and_mailman_web(run_manage, tmp_path):
    run_manage("migrate", "--verbosity", "0")
    run_manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "from allauth.socialaccount.models import SocialAccount; "
        "SocialAccount.objects.create(user=User.objects.create_user('ynerant'), "
        "provider='crans', uid='ynerant')",
    )

    unknown = run_manage("crans_grant_superuser", "ynerand", check=False)
    granted = mailman_web(
        "crans_grant_superuser", "ynerant", local_dir=tmp_path / "var", config_dir=tmp_path
    )
    listed = run_manage("crans_grant_superuser", "--list")

    assert unknown.returncode == 1
    assert (
        "CommandError: No account is connected to the CAS username 'ynerand'. "
        "Close matches: 'ynerand': maybe 'ynerant'" in (unknown.stderr)
    )
    assert granted.returncode == 0, granted.stderr
    assert granted.stdout == "ynerant now has superuser and staff status.\n"
    assert listed.stdout.split() == ["ynerant", "superuser,", "staff", "ynerant"]
    log = (tmp_path / "var" / "logs" / "mailmanweb.log").read_text()
    assert "crans_admin.superusers User 'ynerant' changed by" in log
    assert "through the crans_grant_superuser command: is_superuser=True, is_staff=True" in log


@pytest.mark.parametrize("field", ["is_superuser", "is_active"])
def test_any_save_that_leaves_no_active_superuser_is_refused(users, field):
    root = User.objects.get(username="root")
    setattr(root, field, False)

    with pytest.raises(LastSuperuserError, match="'root' is the last active superuser"):
        root.save()

    assert status("root") == (True, True, True)


def test_deleting_the_last_superuser_is_refused(users):
    with pytest.raises(LastSuperuserError), transaction.atomic():
        User.objects.get(username="root").delete()

    assert status("root") == (True, True, True)
    User.objects.create_superuser("root2")
    User.objects.get(username="root").delete()
    assert not User.objects.filter(username="root").exists()


def test_saves_that_do_not_touch_the_status_are_not_checked(users):
    root = User.objects.get(username="root")

    with CaptureQueriesContext(connection) as queries:
        root.save(update_fields=["last_login"])

    assert not [query for query in queries if "is_superuser" in query["sql"]]


def test_sqlite_keeps_a_superuser_whatever_writes_the_table(run_manage):
    """The embedded default (SQLite): its trigger refuses what the guard never sees."""
    run_manage("migrate", "--verbosity", "0")
    shell = "from django.contrib.auth.models import User; "

    made = run_manage("shell", "-c", shell + "User.objects.create_superuser('root')")
    updated = run_manage(
        "shell", "-c", shell + "User.objects.update(is_superuser=False)", check=False
    )
    listed = run_manage("crans_grant_superuser", "--list")
    flushed = run_manage("flush", "--noinput", check=False)

    assert made.returncode == 0, made.stderr
    assert updated.returncode == 1
    assert "IntegrityError: crans_admin: no active superuser would remain" in updated.stderr
    assert listed.stdout.split()[:3] == ["root", "superuser,", "staff"]
    assert flushed.returncode == 0, flushed.stderr  # flush still empties the table
