"""Check of the lists: Mailman core's and hyperkitty's agree, no rename left unfinished."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from hyperkitty.models import MailingList

# The doctor's one use of the rename (its journal of renames).
from ..rename import unfinished_renames
from .mailman import core_get
from .registry import Finding, check, error, ok, warning

# hyperkitty's lists: posting address -> (list-id, primary key).
Archives = dict[str, tuple[str, int]]


def core_lists(timeout: float) -> dict[str, str]:
    """Core's lists: posting address (lowercase) -> list-id."""
    answer = core_get("lists", timeout)
    return {entry["fqdn_listname"].lower(): entry["list_id"] for entry in answer.get("entries", [])}


def renames_left_unfinished() -> list[str]:
    """The renames of the journal that neither ended nor were rolled back, with their commands."""
    return [
        _(
            "%(old)s -> %(new)s: rename #%(id)d unfinished since %(date)s; mailman-web "
            "rename_list --resume %(id)d (or --rollback %(id)d)"
        )
        % {
            "old": rename.old_name,
            "new": rename.new_name,
            "id": rename.pk,
            "date": rename.started_at.isoformat(timespec="minutes"),
        }
        for rename in unfinished_renames()
    ]


def names_in_disagreement(archives: Archives, in_core: dict[str, str]) -> list[str]:
    """Lists archived under several names, and list-ids that disagree with core or the name."""
    by_lowercase: dict[str, list[str]] = {}
    for name in archives:
        by_lowercase.setdefault(name.lower(), []).append(name)
    errors = [
        _("%(names)s: one list archived under several names") % {"names": ", ".join(sorted(names))}
        for names in by_lowercase.values()
        if len(names) > 1
    ]
    for name, (list_id, _pk) in sorted(archives.items()):
        local_part, _at, domain = name.partition("@")
        expected = in_core.get(name.lower(), f"{local_part}.{domain}")
        if list_id != expected:
            errors.append(
                _("%(name)s: list-id %(list_id)r, expected %(expected)r; mailman-web mailman_sync")
                % {"name": name, "list_id": list_id, "expected": expected}
            )
    return errors


def lists_on_one_side(archives: Archives, in_core: dict[str, str]) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` about the lists that only core, or only hyperkitty, has."""
    archived = {name.lower() for name in archives}
    only_core = sorted(set(in_core) - archived)
    only_archives = sorted(name for name in archives if name.lower() not in in_core)
    # A rename done in core only: the old name keeps the archives, and the
    # archiver creates an empty list under the new one.
    empty = set(
        MailingList.objects.filter(name__in=[name for name in archives if name.lower() in in_core])
        .filter(emails__isnull=True)
        .values_list("name", flat=True)
    )
    orphans = [
        name
        for name in only_archives
        if MailingList.objects.filter(name=name, emails__isnull=False).exists()
    ]
    errors, warnings = [], []
    for old in orphans:
        domain = old.partition("@")[2]
        candidates = sorted(name for name in empty if name.partition("@")[2] == domain)
        if len(candidates) == 1:
            errors.append(
                _(
                    "%(old)s (archives, not in core) and %(new)s (in core, no archive): an "
                    "unfinished rename? mailman-web rename_list %(old)s %(new)s"
                )
                % {"old": old, "new": candidates[0]}
            )
            empty.discard(candidates[0])
        else:
            warnings.append(
                _(
                    "%(name)s: archives of a list that core does not have (deleted, or renamed "
                    "in core only: mailman-web rename_list %(name)s <new name>)"
                )
                % {"name": old}
            )
    warnings += [
        _("%(name)s: an empty archive of a list that core does not have") % {"name": name}
        for name in only_archives
        if name not in orphans
    ]
    warnings += [
        _("%(name)s: in core, not in hyperkitty (mailman-web runjob new_lists_from_mailman)")
        % {"name": name}
        for name in only_core
    ]
    return errors, warnings


@check("lists", gettext_lazy("Lists in Mailman core and in hyperkitty"), timeout=20.0)
def check_lists(timeout: float) -> Finding:
    in_core = core_lists(timeout)
    archives: Archives = {
        name: (list_id, pk)
        for name, list_id, pk in MailingList.objects.values_list("name", "list_id", "id")
    }
    one_side_errors, warnings = lists_on_one_side(archives, in_core)
    errors = [
        *renames_left_unfinished(),
        *names_in_disagreement(archives, in_core),
        *one_side_errors,
    ]
    seen = _("%(core)d list(s) in core, %(archives)d in hyperkitty.") % {
        "core": len(in_core),
        "archives": len(archives),
    }
    if errors:
        return error(
            seen,
            _("Correct each list below with the command it names."),
            [*errors, *warnings],
        )
    if warnings:
        return warning(
            seen,
            _(
                "Look at each list below: delete the archives of lists deleted on purpose (admin, "
                "Mailing lists), or run the command it names."
            ),
            warnings,
        )
    return ok(seen + " " + _("They agree."))
