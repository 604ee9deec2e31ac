"""The journal of renames: what was asked, and each step as it completes.

A rename is recorded (:func:`start`) before anything moves; each step is
recorded when it starts (with what undoing it needs) and when it is done. A
rename that stops half-way, killed or failed, stays ``running``: the command
resumes or rolls it back, and no other rename of the same list can start
meanwhile (a constraint of the database says so too).

``CRANS_RENAME_PAUSE_AFTER=<point>`` is a debugging aid: the rename stops
(sleeps) at that point, where one can look at the state or kill it. The points
are ``started`` (journal written, nothing changed), ``<step>`` (the step's change
made, not yet recorded as done) and ``<step>:done``.
"""

from __future__ import annotations

import os
import sys
import time

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import ListRename, ListRenameStep
from .exceptions import UnfinishedRename
from .redirects import forget_former_names

PAUSE_VARIABLE = "CRANS_RENAME_PAUSE_AFTER"
PAUSE_SECONDS = 24 * 3600


def pause_point(point: str) -> None:
    """Stop here for a day when ``CRANS_RENAME_PAUSE_AFTER`` names this point (debugging)."""
    if os.environ.get(PAUSE_VARIABLE) != point:
        return
    print(f"rename paused after {point} ({PAUSE_VARIABLE})", file=sys.stderr, flush=True)
    time.sleep(PAUSE_SECONDS)


def unfinished_renames() -> list[ListRename]:
    """Renames that were interrupted (or failed) and are neither finished nor rolled back."""
    return list(ListRename.objects.filter(state=ListRename.RUNNING).order_by("started_at", "pk"))


def unfinished_rename_of(mailing_list_id: int, *names: str) -> ListRename | None:
    """The unfinished rename of the list, or of a list from or to one of ``names``."""
    condition = Q(mailing_list_id=mailing_list_id)
    for name in names:
        condition |= Q(old_name=name) | Q(new_name=name)
    return ListRename.objects.filter(condition, state=ListRename.RUNNING).first()


def history(name: str | None = None) -> list[ListRename]:
    """Every rename, newest first; with ``name``, those of the lists that bore it."""
    renames = ListRename.objects.prefetch_related("steps")
    if name is None:
        return list(renames)
    ids = ListRename.objects.filter(
        Q(old_name=name) | Q(new_name=name) | Q(old_list_id=name) | Q(new_list_id=name)
    ).values("mailing_list_id")
    return list(renames.filter(mailing_list_id__in=ids))


def history_of_list(mailing_list_id: int) -> list[ListRename]:
    """The renames of one list (by its row's id), newest first."""
    return list(
        ListRename.objects.filter(mailing_list_id=mailing_list_id).prefetch_related("steps")
    )


def start(
    *,
    mailing_list_id: int,
    old: str,
    old_list_id: str,
    new: str,
    new_list_id: str,
    plan: dict,
    actor: str,
) -> ListRename:
    """Record a rename before anything moves; raise ``UnfinishedRename`` if one is pending."""
    pending = unfinished_rename_of(mailing_list_id, old, new)
    if pending is not None:
        raise UnfinishedRename(pending)
    try:
        with transaction.atomic():
            rename = ListRename.objects.create(
                mailing_list_id=mailing_list_id,
                old_name=old,
                old_list_id=old_list_id,
                new_name=new,
                new_list_id=new_list_id,
                plan=plan,
                actor=actor,
            )
    except IntegrityError as error:  # another process started one meanwhile
        raise UnfinishedRename(unfinished_rename_of(mailing_list_id)) from error
    forget_former_names()
    return rename


def done_steps(rename: ListRename) -> set[str]:
    return set(
        rename.steps.filter(done_at__isnull=False, undone_at__isnull=True).values_list(
            "name", flat=True
        )
    )


def step_started(rename: ListRename, name: str, data: dict | None = None) -> ListRenameStep:
    """Record that a step starts (again, after an interruption), with what undoing it needs."""
    step, created = ListRenameStep.objects.get_or_create(
        rename=rename, name=name, defaults={"data": data or {}}
    )
    if not created and step.undone_at is not None:
        # Undone by a rollback that did not finish, done again now.
        step.undone_at = None
        step.done_at = None
        step.data = data or {}
        step.save(update_fields=["undone_at", "done_at", "data"])
    return step


def step_done(step: ListRenameStep) -> None:
    step.done_at = timezone.now()
    step.save(update_fields=["done_at"])


def step_undone(rename: ListRename, name: str) -> None:
    rename.steps.filter(name=name).update(undone_at=timezone.now())


def finish(rename: ListRename, state: str, error: str = "") -> None:
    rename.state = state
    rename.error = error
    rename.finished_at = timezone.now() if state != ListRename.RUNNING else None
    rename.save(update_fields=["state", "error", "finished_at"])
    forget_former_names()
