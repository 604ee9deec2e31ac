"""Granting and revoking superuser status: a plan, then its application.

The admin needs both ``is_superuser`` and ``is_staff``: granting sets both,
revoking clears both. Changes are all or nothing: if one user cannot be
changed, none is. Every change is logged (logger ``crans_admin.superusers``,
mailman-web's log file) with who made it; the admin also records it in its
own log (``LogEntry``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.translation import ngettext

from .exceptions import InactiveUsersError
from .guard import check_a_superuser_remains
from .lookup import unique

logger = logging.getLogger(__package__)


@dataclass(frozen=True)
class UserUpdate:
    """The fields of one user that a change sets (none if the user is already as asked)."""

    user: AbstractUser
    updates: Mapping[str, bool]

    @property
    def username(self) -> str:
        return self.user.get_username()

    @property
    def reactivated(self) -> bool:
        return self.updates.get("is_active", False)


@dataclass(frozen=True)
class SuperuserChange:
    """Granting (``grant``) or revoking superuser status for some users; a plan until applied."""

    grant: bool
    users: tuple[UserUpdate, ...]
    applied: bool = False

    @property
    def changed(self) -> list[UserUpdate]:
        return [update for update in self.users if update.updates]

    @property
    def unchanged(self) -> list[UserUpdate]:
        return [update for update in self.users if not update.updates]


def plan_superuser_change(
    users: Sequence[AbstractUser],
    *,
    grant: bool,
    activate: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> SuperuserChange:
    """Say what granting (or revoking) superuser status to ``users`` changes.

    Granting to an inactive user raises ``InactiveUsersError`` unless
    ``activate``; revoking the last active superusers raises
    ``LastSuperuserError``.
    """
    if activate and not grant:
        raise ValueError("Only granting superuser status can reactivate an account.")
    if grant:
        inactive = [user.get_username() for user in users if not user.is_active]
        if inactive and not activate:
            raise InactiveUsersError(
                ngettext(
                    "The account %(names)s is deactivated. Nobody was changed.",
                    "The accounts %(names)s are deactivated. Nobody was changed.",
                    len(inactive),
                )
                % {"names": ", ".join(repr(name) for name in inactive)},
                inactive,
            )
        wanted = {"is_superuser": True, "is_staff": True}
        if activate:
            wanted["is_active"] = True
    else:
        check_a_superuser_remains(users, using=using)
        wanted = {"is_superuser": False, "is_staff": False}
    return SuperuserChange(
        grant=grant,
        users=tuple(
            UserUpdate(
                user,
                {field: value for field, value in wanted.items() if getattr(user, field) != value},
            )
            for user in users
        ),
    )


def apply_superuser_change(
    plan: SuperuserChange, *, actor: str, using: str = DEFAULT_DB_ALIAS
) -> SuperuserChange:
    """Save ``plan``; return it marked as applied."""
    for update in plan.changed:
        for field, value in update.updates.items():
            setattr(update.user, field, value)
        update.user.save(using=using, update_fields=list(update.updates))
        logger.info(
            "User %r changed by %s: %s",
            update.username,
            actor,
            ", ".join(f"{field}={value}" for field, value in update.updates.items()),
        )
    return replace(plan, applied=True)


def change_superusers(
    users: Iterable[AbstractUser],
    *,
    grant: bool,
    actor: str,
    activate: bool = False,
    dry_run: bool = False,
    using: str = DEFAULT_DB_ALIAS,
) -> SuperuserChange:
    """Grant (or revoke) superuser status to ``users`` in one transaction, rows locked."""
    User = get_user_model()
    ids = unique(user.pk for user in users)
    with transaction.atomic(using=using):
        locked = User._default_manager.using(using).select_for_update().in_bulk(ids)
        plan = plan_superuser_change(
            [locked[pk] for pk in ids if pk in locked],
            grant=grant,
            activate=activate,
            using=using,
        )
        return plan if dry_run else apply_superuser_change(plan, actor=actor, using=using)
