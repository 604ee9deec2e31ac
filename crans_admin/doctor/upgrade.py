"""Checks of what an older site left (docs/upgrade.md): old packages, uids, tasks, index."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .registry import Finding, check, error, ok, some, warning

UPGRADE = "mailman-web crans_upgrade"


@check("old-packages", gettext_lazy("Old packages under the bundle"))
def check_old_packages(timeout: float) -> Finding:
    from ..upgrade import foreign_distributions, leftover_files, uninstall_command

    foreign = foreign_distributions()
    if foreign:
        return error(
            _("Other distributions own the bundle's modules or django-allauth-cas': %(names)s.")
            % {"names": ", ".join(f"{d.name} {d.version}" for d in foreign)},
            _(
                "Run %(command)s (it deletes the bundle's files of the same names too), then "
                "install the bundle again (pip install --force-reinstall --no-deps)."
            )
            % {"command": uninstall_command(foreign)},
            [f"{d.name} {d.version}: {', '.join(d.modules)} ({d.location})" for d in foreign],
        )
    leftovers = [str(path) for path in leftover_files()]
    if leftovers:
        return error(
            _("%(count)d file(s) in the bundle's folders are no file of the bundle: %(files)s.")
            % {"count": len(leftovers), "files": some(leftovers)},
            _("Delete them: an old package left them (old templates keep overriding)."),
            leftovers,
        )
    return ok(_("No other distribution owns the bundle's modules; no file left in its folders."))


@check("old-uids", gettext_lazy("CAS usernames of an older provider"))
def check_old_uids(timeout: float) -> Finding:
    from ..upgrade.members import plan_uids

    plan = plan_uids()
    if plan.duplicates:
        return error(
            _(
                "%(count)d Crans member(s) have several accounts made by an older provider: "
                "their logins are refused."
            )
            % {"count": len(plan.duplicates)},
            _("Run %(command)s: it lists the accounts and how to keep one.") % {"command": UPGRADE},
            [
                f"{uid}: {', '.join(repr(account.uid) for account in accounts)}"
                for uid, accounts in plan.duplicates.items()
            ],
        )
    if plan.renames:
        return warning(
            _("%(count)d CAS username(s) are stored as an older provider stored them: %(uids)s.")
            % {
                "count": len(plan.renames),
                "uids": some([repr(old) for old, _new, _id in plan.renames]),
            },
            _("Run %(command)s to normalise them.") % {"command": UPGRADE},
        )
    return ok(_("Every CAS username is stored as the provider reads it."))


@check("old-tasks", gettext_lazy("Tasks queued by an older django-q"))
def check_old_tasks(timeout: float) -> Finding:
    from ..upgrade import old_tasks

    tasks = old_tasks()
    if tasks:
        return warning(
            _(
                "%(count)d queued task(s) are signed as an older django-q signed them: no "
                "cluster runs them."
            )
            % {"count": len(tasks)},
            _("Run %(command)s: it deletes them (hyperkitty's jobs redo the work).")
            % {"command": UPGRADE},
        )
    return ok(_("Every queued task can be read by this django-q."))


@check("old-index", gettext_lazy("Search index of an older hyperkitty"), timeout=30.0)
def check_old_index(timeout: float) -> Finding:
    from ..upgrade import stale_index

    index = stale_index()
    if index is None:
        return ok(_("The search index has the fields of the installed hyperkitty (or no index)."))
    return error(
        _("The search index at %(path)s is not of the installed hyperkitty: %(detail)s.")
        % {
            "path": index.path,
            "detail": index.unreadable
            or ", ".join([*index.missing, *(f"-{name}" for name in index.extra)]),
        },
        _("Rebuild it: mailman-web rebuild_index --noinput (it takes a while)."),
    )
