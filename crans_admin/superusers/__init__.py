"""Superuser status: who has it, granting it, revoking it; one active superuser always kept."""

from .changes import (
    SuperuserChange,
    UserUpdate,
    apply_superuser_change,
    change_superusers,
    plan_superuser_change,
)
from .exceptions import (
    AmbiguousUserError,
    InactiveUsersError,
    LastSuperuserError,
    SuperuserError,
    UnknownUsersError,
)
from .guard import check_a_superuser_remains, keep_a_superuser_on_delete, keep_a_superuser_on_save
from .lookup import cas_uids, check_cas_connections, describe, find_users, privileged_users

__all__ = [
    "AmbiguousUserError",
    "InactiveUsersError",
    "LastSuperuserError",
    "SuperuserChange",
    "SuperuserError",
    "UnknownUsersError",
    "UserUpdate",
    "apply_superuser_change",
    "cas_uids",
    "change_superusers",
    "check_a_superuser_remains",
    "check_cas_connections",
    "describe",
    "find_users",
    "keep_a_superuser_on_delete",
    "keep_a_superuser_on_save",
    "plan_superuser_change",
    "privileged_users",
]
