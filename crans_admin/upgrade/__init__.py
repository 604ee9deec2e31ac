"""Moving a site made by Crans' old packages (Debian 11, django-allauth-cas) onto the bundle.

``inspect_upgrade()`` finds what the old site left; ``apply_upgrade()`` fixes
what can be fixed, in one transaction, and refuses (nothing changed) when old
uids of several accounts normalise to one member's. Run twice, the second run
finds nothing to fix. The modules behind it:

- :mod:`.members`: crans uids normalised as the provider reads them;
- :mod:`.tasks`: django-q 1.2's queued tasks, which no newer django-q runs;
- :mod:`.sessions`: the old site's sessions (members are logged out once);
- :mod:`.distributions`: old distributions owning the bundle's modules, and
  files of the bundle's folders that it does not ship;
- :mod:`.index`: a search index of another schema;
- :mod:`.exceptions`: ``UpgradeError`` and its kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .distributions import (
    ForeignDistribution,
    foreign_distributions,
    leftover_files,
    uninstall_command,
)
from .exceptions import DuplicateMembersError, UpgradeError
from .index import StaleIndex, stale_index
from .members import AccountSummary, UidPlan, duplicates_message, normalise_uids, plan_uids
from .sessions import delete_sessions, unreadable_sessions
from .tasks import OldTask, delete_tasks, old_tasks

# Leftover files named in a report before "and N more".
SHOWN = 10


@dataclass(frozen=True)
class UpgradeReport:
    """What the old site left: to fix automatically, to fix by hand, to rebuild."""

    uids: UidPlan
    tasks: tuple[OldTask, ...]
    sessions: tuple[str, ...]
    distributions: tuple[ForeignDistribution, ...]
    leftovers: tuple[Path, ...]
    index: StaleIndex | None

    @property
    def to_fix(self) -> bool:
        """Whether ``apply_upgrade`` has something to change."""
        return bool(self.uids.renames or self.tasks or self.sessions)

    @property
    def by_hand(self) -> bool:
        """Whether something is left that ``apply_upgrade`` cannot fix."""
        return bool(self.uids.duplicates or self.distributions or self.leftovers)

    def fixable_lines(self) -> list[str]:
        lines = [
            _("CAS username %(old)r of user id %(id)d: becomes %(new)r.")
            % {"old": old, "new": new, "id": user_id}
            for old, new, user_id in self.uids.renames
        ]
        if self.tasks:
            lines.append(
                ngettext(
                    "%(count)d task queued by the old django-q (signed with %(signers)s, since "
                    "%(date)s): no newer django-q runs it (its signature is refused); it is "
                    "deleted, hyperkitty's jobs redo the work.",
                    "%(count)d tasks queued by the old django-q (signed with %(signers)s, since "
                    "%(date)s): no newer django-q runs them (their signature is refused); they "
                    "are deleted, hyperkitty's jobs redo the work.",
                    len(self.tasks),
                )
                % {
                    "count": len(self.tasks),
                    "signers": ", ".join(sorted({task.signed_with for task in self.tasks})),
                    "date": min(
                        (
                            task.lock.isoformat(timespec="minutes")
                            for task in self.tasks
                            if task.lock
                        ),
                        default="?",
                    ),
                }
            )
        if self.sessions:
            lines.append(
                ngettext(
                    "%(count)d session of the old site cannot be read (older format, pickle "
                    "serializer): its member is logged out once; it is deleted.",
                    "%(count)d sessions of the old site cannot be read (older format, pickle "
                    "serializer): their members are logged out once; they are deleted.",
                    len(self.sessions),
                )
                % {"count": len(self.sessions)}
            )
        return lines

    def by_hand_lines(self) -> list[str]:
        lines = []
        if self.uids.duplicates:
            lines.append(duplicates_message(self.uids.duplicates))
        if self.distributions:
            lines.append(
                _(
                    "Other distributions own the bundle's modules or django-allauth-cas' "
                    "(%(names)s): uninstalling them later deletes the bundle's own files. "
                    "Run %(command)s, then install the bundle again (pip install "
                    "--force-reinstall --no-deps <the bundle's wheel>)."
                )
                % {
                    "names": ", ".join(
                        f"{d.name} {d.version} ({', '.join(d.modules)})" for d in self.distributions
                    ),
                    "command": uninstall_command(list(self.distributions)),
                }
            )
        if self.leftovers:
            shown = ", ".join(str(path) for path in self.leftovers[:SHOWN])
            if len(self.leftovers) > SHOWN:
                shown += " " + _("and %(count)d more") % {"count": len(self.leftovers) - SHOWN}
            lines.append(
                _(
                    "%(count)d file(s) in the bundle's folders are no file of the bundle (left "
                    "by an old package; templates among them keep overriding): %(files)s. "
                    "Delete them."
                )
                % {"count": len(self.leftovers), "files": shown}
            )
        return lines

    def rebuild_lines(self) -> list[str]:
        if self.index is None:
            return []
        if self.index.unreadable:
            seen = _("The search index at %(path)s cannot be opened (%(error)s).") % {
                "path": self.index.path,
                "error": self.index.unreadable,
            }
        else:
            seen = _(
                "The search index at %(path)s was built by another hyperkitty (fields missing: "
                "%(missing)s; fields no longer indexed: %(extra)s)."
            ) % {
                "path": self.index.path,
                "missing": ", ".join(self.index.missing) or "-",
                "extra": ", ".join(self.index.extra) or "-",
            }
        return [seen + " " + _("Rebuild it: mailman-web rebuild_index --noinput.")]


@dataclass(frozen=True)
class UpgradeChanges:
    """What ``apply_upgrade`` changed (or, in a dry run, would have changed)."""

    uids: int = 0
    tasks: int = 0
    sessions: int = 0
    dry_run: bool = False
    report: UpgradeReport | None = field(default=None, compare=False)


def inspect_upgrade() -> UpgradeReport:
    """Find what the old site left; change nothing."""
    return UpgradeReport(
        uids=plan_uids(),
        tasks=tuple(old_tasks()),
        sessions=tuple(unreadable_sessions()),
        distributions=tuple(foreign_distributions()),
        leftovers=tuple(leftover_files()),
        index=stale_index(),
    )


def apply_upgrade(*, dry_run: bool = False) -> UpgradeChanges:
    """Fix what the old site left, in one transaction (rolled back when ``dry_run``).

    Raises ``DuplicateMembersError`` (nothing changed) when old uids of several
    accounts normalise to one member's.
    """
    try:
        return _apply_upgrade(dry_run)
    except IntegrityError as error:  # a member's login made their row meanwhile
        raise UpgradeError(
            _(
                "A CAS account changed while crans_upgrade ran (%(error)s): nothing was "
                "changed. Stop the site and run it again."
            )
            % {"error": str(error).splitlines()[0]}
        ) from error


def _apply_upgrade(dry_run: bool) -> UpgradeChanges:
    with transaction.atomic():
        report = inspect_upgrade()
        if report.uids.duplicates:
            raise DuplicateMembersError(
                duplicates_message(report.uids.duplicates),
                {
                    uid: [account.uid for account in accounts]
                    for uid, accounts in report.uids.duplicates.items()
                },
            )
        changes = UpgradeChanges(
            uids=normalise_uids(report.uids),
            tasks=delete_tasks(list(report.tasks)),
            sessions=delete_sessions(list(report.sessions)),
            dry_run=dry_run,
            report=report,
        )
        if dry_run:
            transaction.set_rollback(True)
    return changes


__all__ = [
    "AccountSummary",
    "DuplicateMembersError",
    "ForeignDistribution",
    "OldTask",
    "StaleIndex",
    "UidPlan",
    "UpgradeChanges",
    "UpgradeError",
    "UpgradeReport",
    "apply_upgrade",
    "foreign_distributions",
    "inspect_upgrade",
    "leftover_files",
    "old_tasks",
    "stale_index",
    "uninstall_command",
    "unreadable_sessions",
]
