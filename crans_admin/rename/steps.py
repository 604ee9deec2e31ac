"""The steps of a rename, run from the journal: rename, resume, roll back.

With Mailman core's side: ``core_rows`` (core's database, and the old posting
address as an acceptable alias), ``core_folders``, ``web_rows`` (the web
database, one transaction with its journal row), ``web_folder`` (attachments),
``aliases`` (the Postfix map of old addresses, ``mailman aliases``) and
``search_index``. A web-only rename has the web steps only.

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

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from ..models import ListRename, ListRenameStep
from ..text import first_line, utc_minute
from . import journal
from .aliases import postfix_instructions, read_map, update_map, write_map
from .core import (
    CoreRenameError,
    check_core_stopped,
    move_folder,
    move_folders,
    rename_core_rows,
    run_mailman_aliases,
    undo_core_rows,
)
from .names import RenameError
from .plan import RenamePlan
from .search import Progress, reindex_renamed_list
from .web import rename_web_rows, undo_web_rows

logger = logging.getLogger(__name__)

CORE_STEPS = ("core_rows", "core_folders")
WEB_STEPS = ("web_rows", "web_folder")
STEPS = (*CORE_STEPS, *WEB_STEPS, "aliases", "search_index")


def steps_of(plan: RenamePlan) -> tuple[str, ...]:
    """The steps of ``plan``, in the order they run."""
    if plan.core is None:
        return (*WEB_STEPS, "search_index")
    return STEPS


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

    # The steps, forwards.
    def core_rows(self, step: ListRenameStep) -> None:
        rename_core_rows(self.plan.core)

    def core_folders(self, step: ListRenameStep) -> None:
        move_folders(self.plan.core.folder_moves)

    def web_rows(self, step: ListRenameStep) -> None:
        rename_web_rows(
            self.plan, first_run=self.first_run, mark_done=lambda: journal.step_done(step)
        )

    def web_folder(self, step: ListRenameStep) -> None:
        if self.plan.attachments_on_disk:
            move_folder(self.plan.old_folder, self.plan.new_folder)

    def aliases(self, step: ListRenameStep) -> None:
        options = self.plan.core_options
        if options.alias_map is not None:
            update_map(
                options.alias_map, self.plan.old.posting_address, self.plan.new.posting_address
            )
        self._mailman_aliases()

    def search_index(self, step: ListRenameStep) -> None:
        reindexed = reindex_renamed_list(
            self.plan.mailing_list_id, self.plan.old.posting_address, progress=self.progress
        )
        self.report.reindexed = reindexed.emails
        self.report.stale_documents = reindexed.stale_documents

    def data_for(self, name: str) -> dict:
        """What undoing the step ``name`` needs, taken before it runs."""
        if name == "aliases" and self.plan.core_options.alias_map is not None:
            return {"alias_map": read_map(self.plan.core_options.alias_map)}
        return {}

    # The steps, backwards.
    def undo(self, name: str) -> None:
        plan = self.plan
        if name == "core_rows":
            undo_core_rows(plan.core)
        elif name == "core_folders":
            move_folders(plan.core.reversed().folder_moves)
        elif name == "web_rows":
            undo_web_rows(plan)
        elif name == "web_folder":
            if plan.attachments_on_disk:
                move_folder(plan.new_folder, plan.old_folder)
        elif name == "aliases":
            step = self.rename.steps.filter(name=name).first()
            if step is not None and "alias_map" in step.data:
                write_map(plan.core_options.alias_map, step.data["alias_map"])
            self._mailman_aliases()
        elif name == "search_index":
            reindex_renamed_list(plan.mailing_list_id, plan.new.posting_address)

    def _mailman_aliases(self) -> None:
        mailman_bin = self.plan.core_options.mailman_bin
        if not mailman_bin:
            return
        try:
            self.report.aliases_output = run_mailman_aliases(mailman_bin)
        except CoreRenameError as error:
            logger.error("`mailman aliases` failed after renaming %s: %s", self.plan.old, error)
            self.report.aliases_error = str(error)

    # Running them.
    def forwards(self) -> RenameReport:
        done = journal.done_steps(self.rename)
        for name in steps_of(self.plan):
            if name in done:
                continue
            step = journal.step_started(self.rename, name, self.data_for(name))
            try:
                getattr(self, name)(step)
            except Exception as error:
                self.failed(name, error)
            journal.pause_point(name)
            if name != "web_rows":  # recorded in the web rows' transaction
                journal.step_done(step)
            journal.pause_point(f"{name}:done")
            self.report.steps_run.append(name)
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

    def failed(self, name: str, failure: Exception) -> None:
        """Undo the rename after a step failed on the first run; raise ``RenameError``."""
        error = first_line(failure)
        logger.error(
            "Renaming %s to %s: step %s failed: %s", self.plan.old, self.plan.new, name, error
        )
        journal.finish(self.rename, ListRename.RUNNING, f"{name}: {error}")
        if not self.first_run or name == "search_index":
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
            self.backwards(upto=name)
        except Exception as undo_error:
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
                    "undo_error": first_line(undo_error),
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

    def backwards(self, upto: str | None = None) -> None:
        """Undo every step (up to ``upto`` included), the last first; then mark it rolled back."""
        names = steps_of(self.plan)
        if upto is not None:
            names = names[: names.index(upto) + 1]
        # A step changes nothing before its journal row is written: skip the others.
        started = set(self.rename.steps.values_list("name", flat=True))
        # The search index is undone last: it files the emails under the list's name then.
        undone = [name for name in reversed(names) if name != "search_index"]
        if "search_index" in names:
            undone.append("search_index")
        for name in undone:
            if name not in started:
                continue
            self.undo(name)
            journal.step_undone(self.rename, name)
            journal.pause_point(f"undo:{name}")
        journal.finish(self.rename, ListRename.ROLLED_BACK, self.rename.error)
        with translation.override("en"):
            logger.warning(
                "Rename #%d of %s to %s rolled back", self.rename.pk, self.plan.old, self.plan.new
            )


def apply_rename(plan: RenamePlan, *, actor: str, progress: Progress | None = None) -> RenameReport:
    """Record ``plan`` in the journal, then carry it out; return what was done."""
    try:
        rename = journal.start(
            mailing_list_id=plan.mailing_list_id,
            old=plan.old.posting_address,
            old_list_id=plan.old_list_id,
            new=plan.new.posting_address,
            new_list_id=plan.new.list_id,
            plan=plan.to_data(),
            actor=actor,
        )
    except journal.UnfinishedRename as unfinished:
        raise RenameError(unfinished_message(unfinished.rename)) from unfinished
    journal.pause_point("started")
    return _Run(rename, plan, first_run=True, progress=progress).forwards()


def unfinished_message(rename: ListRename) -> str:
    return _(
        "The rename #%(id)d of %(old)s to %(new)s (started %(when)s by %(actor)s) is "
        "unfinished: resume it (`mailman-web rename_list --resume %(id)d`, or the same "
        "command again) or roll it back (`--rollback %(id)d`) first."
    ) % {
        "id": rename.pk,
        "old": rename.old_name,
        "new": rename.new_name,
        "when": utc_minute(rename.started_at),
        "actor": rename.actor,
    }


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
            % {"id": rename.pk, "variable": "CRANS_MAILMAN_CORE_DB_URL"}
        )
    return plan


def _check_core_side(run: _Run, names: tuple[str, ...]) -> None:
    """Before touching core's side again, check that core is stopped (unless forced)."""
    plan = run.plan
    if plan.core is None or plan.core_options.force or not set(names) & set(CORE_STEPS):
        return
    try:
        check_core_stopped(plan.core.var_dir, settings.MAILMAN_REST_API_URL)
    except CoreRenameError as error:
        raise RenameError(str(error)) from error


def resume_rename(
    rename: ListRename, *, core_db_url: str | None = None, progress: Progress | None = None
) -> RenameReport:
    """Finish an unfinished rename from where it stopped."""
    run = _Run(rename, journal_plan(rename, core_db_url), first_run=False, progress=progress)
    pending = tuple(name for name in steps_of(run.plan) if name not in journal.done_steps(rename))
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
            raise RenameError(unfinished_message(rename))


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
