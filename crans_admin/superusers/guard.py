"""At least one active superuser always remains, whatever saves or deletes users."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils.translation import ngettext

from .exceptions import LastSuperuserError


def check_a_superuser_remains(
    users: Iterable[AbstractUser], *, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Raise ``LastSuperuserError`` if ``users`` are all the active superusers (rows locked).

    For any change that takes superuser status or activity away from
    ``users``, or deletes them.
    """
    User = get_user_model()
    with transaction.atomic(using=using):
        superusers = set(
            User._default_manager.using(using)
            .select_for_update()
            .filter(is_superuser=True, is_active=True)
            .values_list("pk", flat=True)
        )
    revoked = [user for user in users if user.pk in superusers]
    if revoked and len(revoked) == len(superusers):
        names = [user.get_username() for user in revoked]
        raise LastSuperuserError(
            ngettext(
                "%(names)s is the last active superuser: revoking would leave nobody able "
                "to administer the site. Nobody was changed.",
                "%(names)s are the last active superusers: revoking would leave nobody "
                "able to administer the site. Nobody was changed.",
                len(names),
            )
            % {"names": ", ".join(repr(name) for name in names)},
            names,
        )


def keep_a_superuser_on_save(
    sender: type[AbstractUser],
    instance: AbstractUser,
    raw: bool = False,
    using: str = DEFAULT_DB_ALIAS,
    update_fields: Iterable[str] | None = None,
    **kwargs: object,
) -> None:
    """``pre_save`` receiver: refuse to save the last active superuser without that status."""
    if raw or instance.pk is None or (instance.is_superuser and instance.is_active):
        return
    if update_fields is not None and not {"is_superuser", "is_active"} & set(update_fields):
        return
    managed = sender._default_manager.using(using)
    if managed.filter(pk=instance.pk, is_superuser=True, is_active=True).exists():
        check_a_superuser_remains([instance], using=using)


def keep_a_superuser_on_delete(
    sender: type[AbstractUser],
    instance: AbstractUser,
    using: str = DEFAULT_DB_ALIAS,
    **kwargs: object,
) -> None:
    """``pre_delete`` receiver: refuse to delete the last active superuser."""
    if instance.is_superuser and instance.is_active:
        check_a_superuser_remains([instance], using=using)
