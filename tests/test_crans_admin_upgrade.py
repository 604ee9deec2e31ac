"""``crans_upgrade``: what the old site (Debian 11, django-allauth-cas 1.0.0, django-q 1.2) left.

The old rows are written as the old site wrote them: uids as the CAS returned
them, django-q payloads and sessions signed the way Django 2.2 signed them.
"""

from __future__ import annotations

import base64
import pickle
import subprocess
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.signing import b62_encode, b64_encode, base64_hmac
from django.utils import timezone
from django.utils.crypto import salted_hmac

from crans_admin.superusers import AmbiguousUserError, find_users
from crans_admin.upgrade import inspect_upgrade
from crans_mailman_web_settings.platforms import DEBIAN, MAILMAN_WEB, log_file
from tests.conftest import REPO
from tests.fixtures.members import allauth_cas_extra_data, connect

pytestmark = pytest.mark.usefixtures("silent_core")


def crans_row(user, uid: str) -> SocialAccount:
    """A row as django-allauth-cas 1.0.0 stored it."""
    return connect(user, uid, allauth_cas_extra_data(uid, {"mail": user.email}))


def upgrade(*args: str) -> str:
    out = StringIO()
    call_command("crans_upgrade", *args, stdout=out)
    return out.getvalue()


def uids() -> list[str]:
    return sorted(SocialAccount.objects.values_list("uid", flat=True))


def test_old_uids_are_normalised_once(archives):
    crans_row(archives.bob, "Bob")
    crans_row(archives.alice, " Alice")

    checked = upgrade("--check")
    assert uids() == [" Alice", "Bob"]
    assert "'Bob' of user id" in checked and "becomes 'bob'" in checked
    dry = upgrade("--dry-run")
    assert "Dry run" in dry and "becomes 'bob'" in dry
    assert uids() == [" Alice", "Bob"]

    assert "becomes 'alice'" in upgrade()
    assert uids() == ["alice", "bob"]
    assert SocialAccount.objects.get(uid="bob").user == archives.bob
    assert "Nothing left of the old site to fix." in upgrade()
    assert "Nothing left of the old site to fix." in upgrade("--check")


@pytest.mark.parametrize("twin", ["BOB", "bob"])
def test_two_old_uids_of_one_member_are_refused_with_both_accounts(archives, twin):
    crans_row(archives.bob, "Bob")
    crans_row(archives.alice, twin)
    carol = archives.alice.__class__.objects.create_user("carol", "carol@crans.org")
    crans_row(carol, "Carol")

    with pytest.raises(CommandError) as refused:
        upgrade()

    message = str(refused.value)
    assert uids() == sorted(["Bob", twin, "Carol"])  # nothing changed, Carol included
    bob_line = next(line for line in message.splitlines() if "account 'Bob'" in line)
    assert f"user 'bob' (id {archives.bob.pk}, e-mail bob@crans.org, last login never)" in bob_line
    assert "1 vote(s), 2 favourite(s), 0 address(es), ? subscription(s)" in bob_line
    alice_line = next(line for line in message.splitlines() if f"account {twin!r}" in line)
    assert f"'alice' (id {archives.alice.pk}" in alice_line and "2 vote(s)" in alice_line
    assert "Keep one account per member" in message and "Nothing was changed." in message
    with pytest.raises(SystemExit) as checked:
        upgrade("--check")
    assert checked.value.code == 1


def test_superuser_lookup_finds_the_old_uid_and_refuses_two(archives):
    """Before: "No account is connected to the CAS username 'Bob'. Close matches: 'Bob': maybe
    'Bob'"."""
    crans_row(archives.bob, "Bob")

    assert find_users(["Bob"]) == [archives.bob]
    assert find_users(["bob"]) == [archives.bob]
    crans_row(archives.alice, "BOB")
    with pytest.raises(AmbiguousUserError, match="crans_upgrade"):
        find_users(["bob"])


def test_grant_superuser_dry_run_names_the_old_member(archives):
    crans_row(archives.bob, "Bob")
    out = StringIO()

    call_command("crans_grant_superuser", "Bob", "--dry-run", stdout=out)

    assert "bob (CAS account Bob) would have superuser and staff status" in out.getvalue()


def django22_payload(task: dict) -> str:
    """A queued task as django-q 1.2 signed it on Django 2.2 (HMAC-SHA1 TimestampSigner)."""
    from django_q.conf import Conf

    value = b64_encode(pickle.dumps(task)).decode()
    value = f"{value}:{b62_encode(int(time.time()))}"
    signature = base64_hmac(Conf.PREFIX + "signer", value, settings.SECRET_KEY, algorithm="sha1")
    return f"{value}:{signature}"


def test_old_django_q_tasks_are_found_unreadable_and_deleted(db):
    from django_q.conf import Conf
    from django_q.core_signing import BadSignature
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    old_lock = timezone.now() - timedelta(days=30)
    old = [
        OrmQ.objects.create(
            key=Conf.PREFIX,
            payload=django22_payload({"id": f"t{n}", "func": "hyperkitty.tasks.x"}),
            lock=old_lock,
        )
        for n in range(3)
    ]
    current = OrmQ.objects.create(
        key=Conf.PREFIX, payload=SignedPackage.dumps({"id": "new", "func": "math.floor"})
    )
    # What the cluster's pusher does with each: BadSignature, then the task is dropped.
    with pytest.raises(BadSignature):
        SignedPackage.loads(old[0].payload)

    checked = upgrade("--check")
    assert "3 tasks queued by the old django-q (signed with sha1" in checked
    upgrade()

    assert list(OrmQ.objects.all()) == [current]
    assert "task" not in upgrade("--check")


def django22_session(data: dict) -> str:
    """Session data as Django 2.2 encoded it, with the pickle serializer of bullseye's settings."""
    serialized = pickle.dumps(data)
    digest = salted_hmac(
        "django.contrib.sessions" + SessionStore.__name__, serialized, algorithm="sha1"
    ).hexdigest()
    return base64.b64encode(digest.encode() + b":" + serialized).decode()


def test_old_sessions_are_deleted_members_log_in_once_more(db):
    expires = timezone.now() + timedelta(days=10)
    Session.objects.create(
        session_key="old" * 8, session_data=django22_session({"x": 1}), expire_date=expires
    )
    store = SessionStore()
    store["x"] = 1
    store.save()

    assert "1 session of the old site cannot be read" in upgrade("--check")
    upgrade()

    assert list(Session.objects.values_list("session_key", flat=True)) == [store.session_key]


def test_a_search_index_of_another_schema_is_to_rebuild(archives, search_index):
    from whoosh.fields import ID, TEXT, Schema
    from whoosh.index import create_in

    for path in search_index.iterdir():
        path.unlink()
    create_in(str(search_index), Schema(id=ID(stored=True), text=TEXT, old_field=TEXT))

    report = inspect_upgrade()

    assert report.index is not None and "old_field" in report.index.extra
    assert "mailman-web rebuild_index --noinput" in upgrade("--check")


def test_the_fresh_index_is_not_stale(archives):
    assert inspect_upgrade().index is None


# The log file, MAILMAN_WEB_BASE_DIR set or not.

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.production",
    **{
        name: "x"
        for name in (
            "MAILMAN_WEB_SECRET_KEY",
            "MAILMAN_REST_API_PASS",
            "MAILMAN_ARCHIVER_KEY",
            "MAILMAN_WEB_DB_PASSWORD",
        )
    },
}


def start_django(environment: dict[str, str]) -> subprocess.CompletedProcess:
    """Set Django up (logging configured) with the production settings, in a fresh interpreter."""
    code = (
        "import django\nfrom django.conf import settings\ndjango.setup()\n"
        "print(settings.LOGGING['handlers']['file']['filename'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **PRODUCTION, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_debian_logs_stay_in_var_log_whatever_the_base_dir():
    for base_dir in ("/var/lib/mailman3/web", "/srv/web"):
        assert log_file(DEBIAN, Path(base_dir)) == Path("/var/log/mailman3/web/mailman-web.log")
    assert log_file(MAILMAN_WEB, Path("/srv/web")) == Path("/srv/web/logs/mailmanweb.log")


def test_a_missing_log_folder_is_created(tmp_path):
    """Before: every command died with "ValueError: Unable to configure handler 'file'"."""
    started = start_django({"MAILMAN_WEB_BASE_DIR": str(tmp_path / "web")})

    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == str(tmp_path / "web" / "logs" / "mailmanweb.log")
    assert (tmp_path / "web" / "logs").is_dir()


def test_a_log_folder_that_cannot_be_made_is_named(tmp_path):
    (tmp_path / "web").write_text("a file where the folder should be")

    started = start_django({"MAILMAN_WEB_BASE_DIR": str(tmp_path / "web")})

    assert started.returncode != 0
    assert f"The log folder {tmp_path / 'web' / 'logs'} does not exist and cannot be" in (
        started.stderr
    )
    assert "Unable to configure handler" not in started.stderr


# The doctor's checks of what the old site left.


def doctor(name: str):
    from crans_admin.doctor import CHECKS

    return CHECKS[name].function(CHECKS[name].timeout)


def test_doctor_reports_old_uids_then_duplicates(archives):
    from crans_admin.doctor import Status

    assert doctor("old-uids").status == Status.OK
    crans_row(archives.bob, "Bob")
    finding = doctor("old-uids")
    assert finding.status == Status.WARNING and "'Bob'" in finding.seen
    crans_row(archives.alice, "BOB")
    finding = doctor("old-uids")
    assert finding.status == Status.ERROR and finding.details == ("bob: 'Bob', 'BOB'",)


def test_doctor_reports_old_tasks_and_index(archives, search_index):
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from whoosh.fields import ID, Schema
    from whoosh.index import create_in

    from crans_admin.doctor import Status

    assert doctor("old-tasks").status == Status.OK
    assert doctor("old-index").status == Status.OK
    OrmQ.objects.create(key=Conf.PREFIX, payload=django22_payload({"id": "t"}))
    for path in search_index.iterdir():
        path.unlink()
    create_in(str(search_index), Schema(id=ID(stored=True)))

    assert doctor("old-tasks").status == Status.WARNING
    finding = doctor("old-index")
    assert finding.status == Status.ERROR and "rebuild_index" in finding.fix


def test_the_refusal_speaks_french(archives):
    from django.utils import translation

    crans_row(archives.bob, "Bob")
    crans_row(archives.alice, "BOB")

    with translation.override("fr"), pytest.raises(CommandError) as refused:
        upgrade()

    assert "Gardez un compte par membre" in str(refused.value)
    assert "1 vote(s), 2 favori(s)" in str(refused.value)
