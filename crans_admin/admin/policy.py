"""Who may change what in the admin: each model's policy, by its label.

Three policies, for anyone who is not an active superuser:

- **delegable**: the model's permissions mean what Django says (archives, lists);
- **owned**: each row belongs to an account, found through ``owner`` (a lookup
  from the row to its user; empty when the row *is* the account). Rows of a
  staff or superuser account, before or after the change, are read-only:
  nobody but a superuser changes, deletes, adds or moves one, whatever the
  permissions say;
- **superuser-only**: the model runs code, holds credentials or reaches other
  systems (tasks and schedules, social apps and tokens, the Site and mail
  domains that links are built from, groups and permissions, sessions): its
  pages are a superuser's alone, whatever the permissions say.

A model nobody classified here is superuser-only (the system check
``crans.W001`` names the registered ones), so that the next upstream admin
opens no hole. The rule is enforced by :mod:`crans_admin.admin.rule`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model, Q, QuerySet


class Kind(Enum):
    DELEGABLE = "delegable"
    OWNED = "owned"
    SUPERUSER_ONLY = "superuser-only"


@dataclass(frozen=True)
class Policy:
    """What a user who is not superuser may do with a model's rows in the admin."""

    kind: Kind
    # OWNED: the lookup from a row to the user it belongs to ("" = the row is the user).
    owner: str = ""
    # OWNED: the rows are removed with the archived content they point to (votes,
    # favourites...): deleting that content (delegable) takes a privileged account's
    # rows with it.
    removed_with_content: bool = False
    # Fields that only a superuser changes (read-only for everyone else).
    superuser_fields: tuple[str, ...] = ()

    @property
    def owned(self) -> bool:
        return self.kind is Kind.OWNED

    @property
    def superuser_only(self) -> bool:
        return self.kind is Kind.SUPERUSER_ONLY

    def describe(self) -> str:
        """The policy as the documentation's table says it."""
        if self.owned:
            text = f"owned by `{self.owner}`" if self.owner else "owned by itself"
            if self.removed_with_content:
                text += ", removed with its content"
        else:
            text = self.kind.value
        if self.superuser_fields:
            fields = ", ".join(f"`{name}`" for name in self.superuser_fields)
            text += f"; superuser-only fields: {fields}"
        return text


DELEGABLE = Policy(Kind.DELEGABLE)
SUPERUSER_ONLY = Policy(Kind.SUPERUSER_ONLY)


def owned(owner: str, **options: object) -> Policy:
    return Policy(Kind.OWNED, owner=owner, **options)  # type: ignore[arg-type]


def delegable(*superuser_fields: str) -> Policy:
    return Policy(Kind.DELEGABLE, superuser_fields=superuser_fields)


# Superuser and staff status, groups and permissions: granting them is a superuser's.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

POLICIES: dict[str, Policy] = {
    # Accounts, and what belongs to one.
    "auth.User": owned("", superuser_fields=PRIVILEGE_FIELDS),
    "account.EmailAddress": owned("user"),  # password resets go to these addresses
    "socialaccount.SocialAccount": owned("user"),  # who logs in through the CAS as whom
    "django_mailman3.Profile": owned("user"),
    "hyperkitty.Profile": owned("user"),
    "hyperkitty.Favorite": owned("user", removed_with_content=True),
    "hyperkitty.LastView": owned("user", removed_with_content=True),
    "hyperkitty.Vote": owned("user", removed_with_content=True),
    # The archives: what staff is there for (hyperkitty's list admin has the Rename page).
    # Who may read an archive is core's: its archive policy, and which list a message
    # or a thread is archived in, are a superuser's to change.
    "hyperkitty.MailingList": delegable("archive_policy"),
    "hyperkitty.Thread": delegable("mailinglist"),
    "hyperkitty.Email": delegable("mailinglist"),
    "hyperkitty.Tag": DELEGABLE,
    "hyperkitty.ThreadCategory": DELEGABLE,
    # Permissions, and what amounts to them.
    "auth.Group": SUPERUSER_ONLY,
    "auth.Permission": SUPERUSER_ONLY,
    "contenttypes.ContentType": SUPERUSER_ONLY,
    "admin.LogEntry": SUPERUSER_ONLY,
    # Credentials: sessions, confirmation keys, tokens and secrets.
    "sessions.Session": SUPERUSER_ONLY,
    "account.EmailConfirmation": SUPERUSER_ONLY,
    "socialaccount.SocialApp": SUPERUSER_ONLY,
    "socialaccount.SocialToken": SUPERUSER_ONLY,
    "mfa.Authenticator": SUPERUSER_ONLY,
    "usersessions.UserSession": SUPERUSER_ONLY,
    "authtoken.Token": SUPERUSER_ONLY,
    "authtoken.TokenProxy": SUPERUSER_ONLY,
    "allauth_cas_crans.ServiceTicket": SUPERUSER_ONLY,  # CAS tickets and session keys
    "allauth_cas_crans.LoginLock": SUPERUSER_ONLY,
    # Links: the Site's domain, and which Site each mail domain's links use.
    "sites.Site": SUPERUSER_ONLY,
    "django_mailman3.MailDomain": SUPERUSER_ONLY,
    # Code run by the task cluster as the web user.
    "django_q.Schedule": SUPERUSER_ONLY,
    "django_q.Task": SUPERUSER_ONLY,
    "django_q.Success": SUPERUSER_ONLY,
    "django_q.Failure": SUPERUSER_ONLY,
    "django_q.OrmQ": SUPERUSER_ONLY,
    # The rename journal: resumed or rolled back by rename_list only.
    "crans_admin.ListRename": SUPERUSER_ONLY,
    "crans_admin.ListRenameStep": SUPERUSER_ONLY,
}


def policy_for(model: type[Model]) -> Policy:
    """The policy of ``model``: its own, superuser-only when nobody classified it."""
    return POLICIES.get(model._meta.label, SUPERUSER_ONLY)


def is_classified(model: type[Model]) -> bool:
    return model._meta.label in POLICIES


def owned_policy(model: type[Model]) -> Policy | None:
    """The owned policy guarding ``model``'s rows (its own, or its table's for a proxy)."""
    for label in (model._meta.label, model._meta.concrete_model._meta.label):
        policy = POLICIES.get(label)
        if policy is not None:
            return policy if policy.owned else None
    return None


def privileged_owner(policy: Policy) -> Q:
    """Rows whose owner has staff or superuser status."""
    prefix = f"{policy.owner}__" if policy.owner else ""
    return Q(**{f"{prefix}is_staff": True}) | Q(**{f"{prefix}is_superuser": True})


def has_privileged_owner(rows: QuerySet, policy: Policy) -> bool:
    """Whether one of ``rows`` (as the database holds them) belongs to a privileged account."""
    return rows.filter(privileged_owner(policy)).exists()


def is_privileged(user: object) -> bool:
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_superuser", False))


def owner_of(row: Model, policy: Policy, values: dict[str, object] | None = None) -> object:
    """The account ``row`` belongs to as it stands in memory (``values``: a form's new values).

    ``None`` when the row points at no account (yet).
    """
    if not policy.owner:
        return row
    first, *rest = policy.owner.split("__")
    value = values[first] if values and first in values else getattr(row, first, None)
    for name in rest:
        if value is None:
            return None
        value = getattr(value, name, None)
    return value


def owner_is_privileged(row: Model, policy: Policy, values: dict[str, object] | None = None):
    """The privileged account ``row`` belongs, or would belong, to; ``None`` if there is none.

    The account's status is read both as held in memory (the change asked)
    and from the database (as it stands).
    """
    owner = owner_of(row, policy, values)
    if owner is None:
        return None
    if not policy.owner and values:
        flags = [values.get(name, getattr(owner, name)) for name in ("is_staff", "is_superuser")]
    else:
        flags = [getattr(owner, "is_staff", False), getattr(owner, "is_superuser", False)]
    if any(flags):
        return owner
    pk = getattr(owner, "pk", None)
    if pk is not None:
        stored = type(owner)._default_manager.using(owner._state.db or DEFAULT_DB_ALIAS)
        if stored.filter(pk=pk).filter(Q(is_staff=True) | Q(is_superuser=True)).exists():
            return owner
    return None


def stored_owner_is_privileged(row: Model, policy: Policy, using: str):
    """The privileged account the stored version of ``row`` belongs to; ``None`` if none."""
    if row.pk is None:
        return None
    stored = type(row)._default_manager.using(using).filter(pk=row.pk).first()
    return None if stored is None else owner_is_privileged(stored, policy)
