"""The steps of a rename, run from the journal: rename, resume, roll back.

Each step is a :class:`Step` that holds its change (``forwards``) and its undoing
(``backwards``) side by side, as a migration operation does. With Mailman core's
side: ``core_rows`` (core's database, and the old posting address as an
acceptable alias), ``core_folders``, ``web_rows`` (the web database, one
transaction with its journal row), ``web_folder`` (attachments), ``aliases``
(the Postfix map of old addresses, ``mailman aliases``) and ``search_index``. A
web-only rename has the web steps only.

Every step first looks at what is done already, so running it again after an
interruption finishes it, and undoing it twice is undoing it once. A step that
fails on the first run undoes everything before (the rename did not happen),
except the search index: the rename is then left unfinished, to be resumed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import ClassVar

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from ..conf import CORE_DB_URL
from ..models import ListRename, ListRenameStep
from ..text import database_error, first_line
from . import journal
from .aliases import postfix_instructions, read_map, update_map, write_map
from .exceptions import MailmanCoreError, RenameError, UnfinishedRename
from .mailman_core import (
    check_core_stopped,
    move_folder,
    move_folders,
    rename_core_rows,
    run_mailman_aliases,
    undo_core_rows,
)
from .plan import RenamePlan
from .search_index import Progress, reindex_renamed_list
from .web_rows import rename_web_rows, undo_web_rows

logger = logging.getLogger(__name__)


def plan_digest(plan: RenamePlan) -> str:
    """A fingerprint of the plan's data (not of its wording), to notice a change."""
    return hashlib.sha256(json.dumps(plan.to_data(), sort_keys=True).encode()).hexdigest()


@dataclass
class RenameReport:
    """What a rename (or its resumption) did."""

    plan: RenamePlan
    rename: ListRename
    reindexed: int = 0
    stale_documents: int = 0
    aliases_output: str | None = None  # what `mailman aliases` printed, when it ran
    aliases_error: str | None = None  # why it failed
    steps_run: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        lines = self.plan.describe()
        if self.stale_documents:
            lines.append(
                _(
                    "search index: %(count)d document(s) of deleted emails removed from "
                    "under %(old)s"
                )
                % {"count": self.stale_documents, "old": self.plan.old}
            )
        if self.plan.core is not None:
            lines.extend(
                postfix_instructions(
                    self.plan.old.posting_address,
                    self.plan.new.posting_address,
                    self.plan.core_options.alias_map,
                )
            )
        return lines

    @property
    def follow_up(self) -> str | None:
        """What is left to do by hand, if anything."""
        plan = self.plan
        if plan.core is None:
            if plan.core_serves_old is False:
                return None
            return _(
                "Mailman core is renamed separately: it still serves %(list)s, or could "
                "not be asked. Rename it there too."
            ) % {"list": plan.old_list_id}
        if self.aliases_error is not None:
            return _("`mailman aliases` failed (%(error)s): run it, then start Mailman core.") % {
                "error": self.aliases_error
            }
        if self.aliases_output is None:
            return _("Run `mailman aliases`, then start Mailman core.")
        return _("Start Mailman core.")


class Step:
    """One step of a rename: its change and its undoing, each of which may run twice."""

    name: ClassVar[str]
    # It changes Mailman core's side, which must be stopped (unless forced).
    changes_core: ClassVar[bool] = False
    # It records itself as done, in the transaction of its change.
    records_itself: ClassVar[bool] = False
    # Failing on the first run leaves the rename unfinished, to be resumed,
    # instead of undoing the steps before it.
    resumed_after_failure: ClassVar[bool] = False
    # Undone after every other step.
    undone_last: ClassVar[bool] = False

    def undo_data(self, run: _Run) -> dict:
        """What undoing the step needs and only the step knows, taken before it runs."""
        return {}

    def forwards(self, run: _Run, record: ListRenameStep) -> None:
        raise NotImplementedError

    def backwards(self, run: _Run, record: ListRenameStep) -> None:
        raise NotImplementedError


class CoreRows(Step):
    """Core's database: the list's rows, and its old posting address as an acceptable alias."""

    name = "core_rows"
    changes_core = True

    def forwards(self, run, record):
        rename_core_rows(run.plan.core)

    def backwards(self, run, record):
        undo_core_rows(run.plan.core)


class CoreFolders(Step):
    """Core's var dir: the list's folders."""

    name = "core_folders"
    changes_core = True

    def forwards(self, run, record):
        move_folders(run.plan.core.folder_moves)

    def backwards(self, run, record):
        move_folders(run.plan.core.reversed().folder_moves)


class WebRows(Step):
    """The web database: the list's row and its templates, with the step's journal row."""

    name = "web_rows"
    records_itself = True

    def forwards(self, run, record):
        rename_web_rows(
            run.plan, first_run=run.first_run, mark_done=lambda: journal.step_done(record)
        )

    def backwards(self, run, record):
        undo_web_rows(run.plan)


class WebFolder(Step):
    """The list's attachment folder, when it has one on disk."""

    name = "web_folder"

    def forwards(self, run, record):
        if run.plan.attachments_on_disk:
            move_folder(run.plan.old_folder, run.plan.new_folder)

    def backwards(self, run, record):
        if run.plan.attachments_on_disk:
            move_folder(run.plan.new_folder, run.plan.old_folder)


class Aliases(Step):
    """The Postfix map of the old addresses, then ``mailman aliases``."""

    name = "aliases"

    def undo_data(self, run):
        alias_map = run.plan.core_options.alias_map
        return {} if alias_map is None else {"alias_map": read_map(alias_map)}

    def forwards(self, run, record):
        plan = run.plan
        if plan.core_options.alias_map is not None:
            update_map(
                plan.core_options.alias_map, plan.old.posting_address, plan.new.posting_address
            )
        run.mailman_aliases()

    def backwards(self, run, record):
        if "alias_map" in record.data:
            write_map(run.plan.core_options.alias_map, record.data["alias_map"])
        run.mailman_aliases()


class SearchIndex(Step):
    """The search index: the list's documents, filed under its new address."""

    name = "search_index"
    resumed_after_failure = True
    # Undoing it files the emails under the list's name then: the old one, once
    # the other steps are undone.
    undone_last = True

    def forwards(self, run, record):
        reindexed = reindex_renamed_list(
            run.plan.mailing_list_id, run.plan.old.posting_address, progress=run.progress
        )
        run.report.reindexed = reindexed.emails
        run.report.stale_documents = reindexed.stale_documents

    def backwards(self, run, record):
        reindex_renamed_list(run.plan.mailing_list_id, run.plan.new.posting_address)


CORE_STEPS = (CoreRows(), CoreFolders())
WEB_STEPS = (WebRows(), WebFolder())
SEARCH_INDEX = SearchIndex()
STEPS = (*CORE_STEPS, *WEB_STEPS, Aliases(), SEARCH_INDEX)


def steps_of(plan: RenamePlan) -> tuple[Step, ...]:
    """The steps of ``plan``, in the order they run."""
    if plan.core is None:
        return (*WEB_STEPS, SEARCH_INDEX)
    return STEPS


@dataclass
class _Run:
    """One run of the steps of a journal entry."""

    rename: ListRename
    plan: RenamePlan
    first_run: bool
    progress: Progress | None = None
    report: RenameReport = field(init=False)

    def __post_init__(self):
        self.report = RenameReport(plan=self.plan, rename=self.rename)

    def mailman_aliases(self) -> None:
        """Run ``mailman aliases`` when told where it is; a failure is reported, not raised."""
        mailman_bin = self.plan.core_options.mailman_bin
        if not mailman_bin:
            return
        try:
            self.report.aliases_output = run_mailman_aliases(mailman_bin)
        except MailmanCoreError as error:
            shown = self.shown(error)
            logger.error("`mailman aliases` failed after renaming %s: %s", self.plan.old, shown)
            self.report.aliases_error = shown

    def shown(self, error: BaseException) -> str:
        """The first line of ``error``, without the secrets of core's database URL."""
        options = self.plan.core_options
        if options is None or not options.db_url:
            return first_line(error)
        return database_error(error, options.db_url)

    def forwards(self) -> RenameReport:
        done = journal.done_steps(self.rename)
        for step in steps_of(self.plan):
            if step.name in done:
                continue
            record = journal.step_started(self.rename, step.name, step.undo_data(self))
            try:
                step.forwards(self, record)
            except Exception as error:
                self.failed(step, error)
            journal.pause_point(step.name)
            if not step.records_itself:
                journal.step_done(record)
            journal.pause_point(f"{step.name}:done")
            self.report.steps_run.append(step.name)
        journal.finish(self.rename, ListRename.DONE)
        with translation.override("en"):
            logger.info(
                "List %s renamed to %s by %s (rename #%d): %s",
                self.plan.old,
                self.plan.new,
                self.rename.actor,
                self.rename.pk,
                "; ".join(self.plan.describe()),
            )
        return self.report

    def failed(self, step: Step, failure: Exception) -> None:
        """Undo the rename after a step failed on the first run; raise ``RenameError``."""
        error = self.shown(failure)
        name = step.name
        logger.error(
            "Renaming %s to %s: step %s failed: %s", self.plan.old, self.plan.new, name, error
        )
        journal.finish(self.rename, ListRename.RUNNING, f"{name}: {error}")
        if not self.first_run or step.resumed_after_failure:
            raise RenameError(
                _(
                    "Renaming %(old)s to %(new)s stopped at the step %(step)s (%(error)s). "
                    "Resume it with `mailman-web rename_list --resume %(id)d` once the cause "
                    "is fixed, or undo it with `--rollback %(id)d`."
                )
                % {
                    "old": self.plan.old,
                    "new": self.plan.new,
                    "step": name,
                    "error": error,
                    "id": self.rename.pk,
                }
            ) from failure
        try:
            self.backwards(upto=step)
        except Exception as undo_failure:
            undo_error = self.shown(undo_failure)
            logger.critical(
                "Undoing the failed rename #%d of %s failed: %s",
                self.rename.pk,
                self.plan.old,
                undo_error,
            )
            raise RenameError(
                _(
                    "DANGER: renaming %(old)s to %(new)s failed at the step %(step)s "
                    "(%(error)s), and undoing it failed too (%(undo_error)s). Fix the cause, "
                    "then run `mailman-web rename_list --rollback %(id)d` (or --resume)."
                )
                % {
                    "old": self.plan.old,
                    "new": self.plan.new,
                    "step": name,
                    "error": error,
                    "undo_error": undo_error,
                    "id": self.rename.pk,
                }
            ) from failure
        raise RenameError(
            _(
                "Renaming %(old)s to %(new)s failed at the step %(step)s (%(error)s): "
                "everything was put back, the list is still %(old)s."
            )
            % {"old": self.plan.old, "new": self.plan.new, "step": name, "error": error}
        ) from failure

    def backwards(self, upto: Step | None = None) -> None:
        """Undo every step (up to ``upto`` included), the last first; then mark it rolled back."""
        steps = steps_of(self.plan)
        if upto is not None:
            steps = steps[: steps.index(upto) + 1]
        # A step changes nothing before its journal row is written: skip the others.
        records = {record.name: record for record in self.rename.steps.all()}
        undone = sorted(reversed(steps), key=lambda step: step.undone_last)
        for step in undone:
            record = records.get(step.name)
            if record is None:
                continue
            step.backwards(self, record)
            journal.step_undone(self.rename, step.name)
            journal.pause_point(f"undo:{step.name}")
        journal.finish(self.rename, ListRename.ROLLED_BACK, self.rename.error)
        with translation.override("en"):
            logger.warning(
                "Rename #%d of %s to %s rolled back", self.rename.pk, self.plan.old, self.plan.new
            )


def apply_rename(plan: RenamePlan, *, actor: str, progress: Progress | None = None) -> RenameReport:
    """Record ``plan`` in the journal, then carry it out; return what was done."""
    rename = journal.start(
        mailing_list_id=plan.mailing_list_id,
        old=plan.old.posting_address,
        old_list_id=plan.old_list_id,
        new=plan.new.posting_address,
        new_list_id=plan.new.list_id,
        plan=plan.to_data(),
        actor=actor,
    )
    journal.pause_point("started")
    return _Run(rename, plan, first_run=True, progress=progress).forwards()


def journal_plan(rename: ListRename, core_db_url: str | None) -> RenamePlan:
    """The plan of an unfinished rename, with core's database URL when it has a core side."""
    plan = RenamePlan.from_data(rename.plan, core_db_url)
    if plan.core is None:
        return plan
    if not core_db_url:
        raise RenameError(
            _(
                "The rename #%(id)d changes Mailman core too: give core's database URL "
                "(the %(variable)s environment variable or --core-db-file)."
            )
            % {"id": rename.pk, "variable": CORE_DB_URL}
        )
    return plan


def _check_core_side(run: _Run, steps: tuple[Step, ...]) -> None:
    """Before touching core's side again, check that core is stopped (unless forced)."""
    plan = run.plan
    if plan.core is None or plan.core_options.force:
        return
    if any(step.changes_core for step in steps):
        check_core_stopped(plan.core.var_dir, settings.MAILMAN_REST_API_URL)


def resume_rename(
    rename: ListRename, *, core_db_url: str | None = None, progress: Progress | None = None
) -> RenameReport:
    """Finish an unfinished rename from where it stopped."""
    run = _Run(rename, journal_plan(rename, core_db_url), first_run=False, progress=progress)
    done = journal.done_steps(rename)
    pending = tuple(step for step in steps_of(run.plan) if step.name not in done)
    _check_core_side(run, pending)
    return run.forwards()


def rollback_rename(rename: ListRename, *, core_db_url: str | None = None) -> RenamePlan:
    """Undo an unfinished rename, whatever steps it did; return its plan."""
    run = _Run(rename, journal_plan(rename, core_db_url), first_run=False)
    _check_core_side(run, CORE_STEPS)
    run.backwards()
    return run.plan


def unfinished_same_rename(old: str, new: str) -> ListRename | None:
    """The unfinished rename of ``old`` to ``new`` (posting addresses or list-ids), if any."""
    old, new = old.strip().lower(), new.strip().lower()
    for rename in journal.unfinished_renames():
        if old in (rename.old_name, rename.old_list_id) and new in (
            rename.new_name,
            rename.new_list_id,
        ):
            return rename
    return None


def check_no_unfinished_rename(*names: str) -> None:
    """Raise ``RenameError`` if an unfinished rename is from or to one of ``names``."""
    wanted = {name.strip().lower() for name in names}
    for rename in journal.unfinished_renames():
        if wanted & {rename.old_name, rename.old_list_id, rename.new_name, rename.new_list_id}:
            raise UnfinishedRename(rename)


def find_unfinished(rename_id: int | None) -> ListRename:
    """The unfinished rename ``rename_id``, or the only one when None; ``RenameError`` if none."""
    unfinished = journal.unfinished_renames()
    if rename_id is not None:
        unfinished = [rename for rename in unfinished if rename.pk == rename_id]
    if len(unfinished) == 1:
        return unfinished[0]
    if not unfinished:
        raise RenameError(
            _("No unfinished rename #%(id)d.") % {"id": rename_id}
            if rename_id is not None
            else _("No rename is unfinished.")
        )
    raise RenameError(
        _("%(count)d renames are unfinished (%(ids)s): say which one.")
        % {"count": len(unfinished), "ids": ", ".join(f"#{rename.pk}" for rename in unfinished)}
    )
