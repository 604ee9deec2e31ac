"""Two revocations at once, each of a different superuser, leave one, on every path.

Real rows on PostgreSQL, committed (``transaction=True``), each revocation in a
thread of its own (its own database connection). A barrier makes the two
revocations pass the guard's check before either writes: the check and the
write are not atomic in autocommit, and the database's trigger must decide.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.models.signals import pre_save
from django_mailman3.models import Profile as DjangoMailman3Profile
from hyperkitty.models import Profile as HyperkittyProfile

from crans_admin.superusers import LastSuperuserError, install_superuser_trigger

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_superusers() -> tuple[User, User]:
    return (
        User.objects.create_superuser("root", "root@crans.org", "secret"),
        User.objects.create_superuser("ynerant", "ynerant@crans.org", "secret"),
    )


def active_superusers() -> list[str]:
    return sorted(
        User.objects.filter(is_superuser=True, is_active=True).values_list("username", flat=True)
    )


@pytest.fixture
def both_checked() -> Iterator[None]:
    """Each save of a user waits, once the guard has checked, until the other is checked too."""
    barrier = threading.Barrier(2, timeout=20)

    def wait(sender, instance, **kwargs):
        barrier.wait()

    # Connected after the guard (crans_admin's ready()): receivers run in order.
    pre_save.connect(wait, sender=User, dispatch_uid="both_checked")
    yield
    pre_save.disconnect(sender=User, dispatch_uid="both_checked")


def at_once(*revocations: Callable[[], object]) -> list[object]:
    """Run ``revocations`` in threads started together; return each one's result or error."""
    results: list[object] = [None] * len(revocations)
    start = threading.Barrier(len(revocations), timeout=20)

    def run(index: int, revocation: Callable[[], object]) -> None:
        try:
            start.wait()
            results[index] = revocation()
        except Exception as error:  # noqa: BLE001 - the result under test
            results[index] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=(index, revocation))
        for index, revocation in enumerate(revocations)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a revocation never ended (deadlock?)"
    return results


def save_without(username: str, field: str) -> Callable[[], str]:
    def revoke() -> str:
        user = User.objects.get(username=username)
        setattr(user, field, False)
        user.save()  # autocommit: no transaction around the check and the write
        return username

    return revoke


@pytest.mark.parametrize("field", ["is_superuser", "is_active"])
def test_two_saves_in_autocommit_leave_a_superuser(two_superusers, both_checked, field):
    results = at_once(save_without("root", field), save_without("ynerant", field))

    refused = [result for result in results if isinstance(result, IntegrityError)]
    assert len(refused) == 1, results
    assert "no active superuser would remain" in str(refused[0])
    assert len(active_superusers()) == 1


def test_two_queryset_updates_leave_a_superuser(two_superusers):
    def revoke(username: str) -> Callable[[], int]:
        # No pre_save at all: the guard never sees it.
        return lambda: User.objects.filter(username=username).update(is_superuser=False)

    results = at_once(revoke("root"), revoke("ynerant"))

    assert sorted(type(result).__name__ for result in results) == ["IntegrityError", "int"]
    assert len(active_superusers()) == 1


def test_two_transactions_wait_for_each_other_and_the_second_is_told_why(two_superusers):
    """The command's path: the second waits for the first's lock, then is refused by the guard."""

    def revoke(username: str) -> Callable[[], str]:
        def command() -> str:
            stdout = StringIO()
            call_command("crans_grant_superuser", "--revoke", "--local", username, stdout=stdout)
            return stdout.getvalue()

        return command

    for _attempt in range(3):  # each ordering of the two locks, likely
        results = at_once(revoke("root"), revoke("ynerant"))

        errors = [result for result in results if isinstance(result, Exception)]
        assert len(errors) == 1, results
        assert isinstance(errors[0], CommandError), repr(errors[0])
        assert "is the last active superuser" in str(errors[0])
        [remaining] = active_superusers()
        User.objects.filter(username__in=["root", "ynerant"]).update(
            is_superuser=True, is_staff=True
        )
        assert remaining in ("root", "ynerant")


def test_the_trigger_checks_at_commit_and_keeps_nothing_of_the_transaction(two_superusers):
    root, ynerant = two_superusers

    with pytest.raises(IntegrityError, match="no active superuser would remain"):
        with transaction.atomic():
            User.objects.filter(pk=root.pk).update(first_name="Changed")
            User.objects.update(is_superuser=False)

    assert active_superusers() == ["root", "ynerant"]
    assert User.objects.get(pk=root.pk).first_name == ""
    # Demoting one, then the other after granting a third, is fine within a transaction.
    with transaction.atomic():
        User.objects.filter(pk=root.pk).update(is_superuser=False)
        User.objects.create_superuser("erin")
        User.objects.filter(pk=ynerant.pk).update(is_active=False)
    assert active_superusers() == ["erin"]


def test_deleting_every_superuser_in_sql_is_refused(two_superusers):
    with pytest.raises(IntegrityError, match="no active superuser would remain"):
        with transaction.atomic(), connection.cursor() as cursor:
            # The rows that point at the accounts first (their foreign keys).
            for model in (DjangoMailman3Profile, HyperkittyProfile):
                model.objects.all().delete()
            cursor.execute("DELETE FROM auth_user")

    assert active_superusers() == ["root", "ynerant"]


def test_the_trigger_is_installed_again_idempotently(two_superusers):
    install_superuser_trigger()
    install_superuser_trigger()

    with pytest.raises(IntegrityError):
        User.objects.update(is_superuser=False)
    with pytest.raises(LastSuperuserError):
        for user in User.objects.order_by("username"):
            user.is_superuser = False
            user.save()
    assert active_superusers() == ["ynerant"]
