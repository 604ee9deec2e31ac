"""Rename a mailing list: mailman-web's rows, attachment folder and search index, and core's side.

Mailman cannot rename a list. On the web side a list is one
``hyperkitty_mailinglist`` row: its emails, threads, owners and moderators
point at it by integer id and follow without being touched. Three things hold
the list by name and are changed here: the row itself (``name``, ``list_id``,
``display_name``, ``subject_prefix``), postorius' list templates
(``identifier`` is the list-id) and, outside the database, the attachment
folder ``HYPERKITTY_ATTACHMENT_FOLDER/<domain>/<local part>`` and the search
index (each email's document holds the list's posting address). Given Mailman
core's database and var dir, :mod:`crans_admin.core` renames the list there in
the same run.

:func:`plan_rename` checks everything and says what would change (a dry run
stops there); :func:`apply_rename` does it: the web rows, core's rows and the
attachment folder change together or not at all, then the search index is
updated.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _
from django_mailman3.models import MailDomain
from hyperkitty.models import Attachment, Email, Favorite, MailingList, Thread, Vote
from postorius.models import EmailTemplate

from .core import (
    CoreRename,
    CoreRenameError,
    CoreRenamePlan,
    plan_core_rename,
    run_mailman_aliases,
)
from .search import Progress, reindex_renamed_list

logger = logging.getLogger(__name__)

# Mailman core's default ``[mailman] listname_chars``, which ``create_list``
# (mailman/app/lifecycle.py) applies to the local part, lowercased.
LIST_NAME_CHARACTERS = re.compile(r"[-_.0-9a-z]+")
# A label of a domain, as Mailman's email validator accepts it.
DOMAIN_LABEL = re.compile(r"[a-z0-9][-a-z0-9]*")
NAME_MAX_LENGTH = MailingList._meta.get_field("name").max_length
DISPLAY_NAME_MAX_LENGTH = MailingList._meta.get_field("display_name").max_length


class RenameError(Exception):
    """A reason to refuse or a failure of a rename; its message is shown as is."""


@dataclass(frozen=True)
class ListName:
    """A list's name: posting address ``local_part@domain``, list-id ``local_part.domain``."""

    local_part: str
    domain: str

    def __str__(self) -> str:
        return self.posting_address

    @property
    def posting_address(self) -> str:
        return f"{self.local_part}@{self.domain}"

    @property
    def list_id(self) -> str:
        return f"{self.local_part}.{self.domain}"

    @property
    def default_display_name(self) -> str:
        """The display name Mailman gives a new list (mailman/styles/base.py)."""
        return self.local_part.capitalize()

    @classmethod
    def from_posting_address(cls, address: str) -> ListName:
        local_part, _at, domain = address.partition("@")
        return cls(local_part, domain)


def default_subject_prefix(display_name: str) -> str:
    """The subject prefix Mailman gives a new list: ``[Display name] ``."""
    return f"[{display_name}] "


def known_domains() -> set[str]:
    """Mail domains mailman-web knows: django-mailman3's domains and those of archived lists."""
    domains = set(MailDomain.objects.values_list("mail_domain", flat=True))
    domains.update(
        name.partition("@")[2] for name in MailingList.objects.values_list("name", flat=True)
    )
    domains.discard("")
    return {domain.lower() for domain in domains}


def parse_list_name(value: str, domains: Iterable[str]) -> ListName:
    """Read ``value``, a posting address or a list-id, checked against Mailman's rules.

    A list-id is split at the known domain it ends with: the local part may
    hold dots, so ``a.b.lists.crans.org`` is ``a.b@lists.crans.org`` when
    ``lists.crans.org`` is known, and ambiguous when ``b.lists.crans.org`` is
    known too. Names are lowercased, as Mailman does.
    """
    text = value.strip().lower()
    if "@" in text:
        local_part, _at, domain = text.partition("@")
    else:
        matches = sorted(
            domain for domain in domains if text.endswith(f".{domain}") and text != f".{domain}"
        )
        if not matches:
            raise RenameError(
                _(
                    "%(value)r is no posting address and ends with no known mail domain "
                    "(%(domains)s): give the posting address, e.g. name@lists.example.org."
                )
                % {"value": value, "domains": ", ".join(sorted(domains)) or _("none")}
            )
        if len(matches) > 1:
            candidates = [f"{text[: -len(domain) - 1]}@{domain}" for domain in matches]
            raise RenameError(
                _("The list-id %(value)r is ambiguous (%(candidates)s): give the posting address.")
                % {"value": value, "candidates": _(" or ").join(candidates)}
            )
        domain = matches[0]
        local_part = text[: -len(domain) - 1]
    name = ListName(local_part, domain)
    validate_list_name(name)
    return name


def validate_list_name(name: ListName) -> None:
    """Raise ``RenameError`` unless Mailman core would create a list by this name."""
    if not LIST_NAME_CHARACTERS.fullmatch(name.local_part):
        raise RenameError(
            _(
                "Invalid list name %(name)r: Mailman allows only the letters a-z, digits, "
                "'-', '_' and '.' before the @."
            )
            % {"name": name.local_part}
        )
    labels = name.domain.split(".")
    if len(labels) < 2 or not all(DOMAIN_LABEL.fullmatch(label) for label in labels):
        raise RenameError(_("Invalid mail domain %(domain)r.") % {"domain": name.domain})
    if len(name.posting_address) > NAME_MAX_LENGTH:
        raise RenameError(
            _("The posting address %(address)r is longer than %(max)d characters.")
            % {"address": name.posting_address, "max": NAME_MAX_LENGTH}
        )


@dataclass(frozen=True)
class CoreOptions:
    """Where Mailman core's side of the rename is: its database and its var dir."""

    db_url: str
    var_dir: Path
    force: bool = False  # skip the check that core is stopped
    mailman_bin: str | None = None  # run ``mailman aliases`` with it afterwards


@dataclass(frozen=True)
class FollowingRows:
    """Rows that point at the list by its id: they follow the rename untouched."""

    emails: int
    threads: int
    attachments: int
    votes: int
    favorites: int
    owners: int
    moderators: int


@dataclass(frozen=True)
class EmptyRow:
    """A row for the new name that holds no archive (``get_or_create`` made it): merged."""

    id: int
    owner_ids: tuple[int, ...]
    moderator_ids: tuple[int, ...]


@dataclass(frozen=True)
class RenamePlan:
    """Everything a rename changes, checked; :func:`apply_rename` carries it out."""

    mailing_list_id: int
    old: ListName
    old_list_id: str
    new: ListName
    old_display_name: str
    new_display_name: str
    old_subject_prefix: str
    new_subject_prefix: str
    empty_row: EmptyRow | None
    templates: int
    following: FollowingRows
    attachment_folder: Path | None  # HYPERKITTY_ATTACHMENT_FOLDER, when it is set
    attachments_on_disk: bool  # the old list's folder exists and moves
    core: CoreRenamePlan | None = None
    core_options: CoreOptions | None = None

    @property
    def old_folder(self) -> Path | None:
        return _list_folder(self.attachment_folder, self.old)

    @property
    def new_folder(self) -> Path | None:
        return _list_folder(self.attachment_folder, self.new)

    def describe(self) -> list[str]:
        """One line per change, phrased for a dry run and for the report alike."""
        row = f"hyperkitty_mailinglist #{self.mailing_list_id}"
        lines = [
            f"{row}: {field} {old!r} -> {new!r}"
            for field, old, new in (
                ("name", self.old.posting_address, self.new.posting_address),
                ("list_id", self.old_list_id, self.new.list_id),
                ("display_name", self.old_display_name, self.new_display_name),
                ("subject_prefix", self.old_subject_prefix, self.new_subject_prefix),
            )
            if old != new
        ]
        if self.old_subject_prefix == self.new_subject_prefix:
            lines.append(
                _("%(row)s: subject_prefix %(prefix)r kept (not the default one)")
                % {"row": row, "prefix": self.old_subject_prefix}
            )
        if self.empty_row is not None:
            lines.append(
                _(
                    "hyperkitty_mailinglist #%(id)d: empty row for %(new)s (no email, made by "
                    "get_or_create) merged into #%(target)d: %(owners)d owner(s) and "
                    "%(moderators)d moderator(s) carried over, row deleted"
                )
                % {
                    "id": self.empty_row.id,
                    "new": self.new,
                    "target": self.mailing_list_id,
                    "owners": len(self.empty_row.owner_ids),
                    "moderators": len(self.empty_row.moderator_ids),
                }
            )
        lines.append(
            _("postorius_emailtemplate: %(count)d row(s): identifier %(old)r -> %(new)r")
            % {"count": self.templates, "old": self.old_list_id, "new": self.new.list_id}
        )
        following = self.following
        lines.append(
            _(
                "unchanged, they follow list #%(id)d by its id: %(emails)d email(s), "
                "%(threads)d thread(s), %(attachments)d attachment(s), %(votes)d vote(s), "
                "%(favorites)d favorite(s), %(owners)d owner(s), %(moderators)d moderator(s)"
            )
            % {"id": self.mailing_list_id, **vars(following)}
        )
        if self.attachment_folder is None:
            lines.append(_("attachment folder: none (attachments are kept in the database)"))
        elif self.attachments_on_disk:
            lines.append(
                _("folder %(old)s -> %(new)s") % {"old": self.old_folder, "new": self.new_folder}
            )
        else:
            lines.append(_("folder %(old)s: absent, nothing to move") % {"old": self.old_folder})
        lines.append(
            _("search index: %(count)d email(s) reindexed under %(new)s")
            % {"count": following.emails, "new": self.new}
        )
        if self.core is None:
            lines.append(_("Mailman core: not part of this rename"))
        else:
            lines.extend(
                _("Mailman core: %(change)s") % {"change": line} for line in self.core.describe()
            )
        return lines


@dataclass(frozen=True)
class RenameReport:
    """What :func:`apply_rename` did."""

    plan: RenamePlan
    reindexed: int
    stale_documents: int
    aliases_output: str | None = None  # what `mailman aliases` printed, when it ran
    aliases_error: str | None = None  # why it failed

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
        return lines

    @property
    def follow_up(self) -> str | None:
        """What is left to do by hand, if anything."""
        if self.plan.core is None:
            return _(
                "Mailman core still knows the list as %(old)s: rename it there too "
                "(rename_list with --core-db and --core-var-dir)."
            ) % {"old": self.plan.old}
        if self.aliases_error is not None:
            return _("`mailman aliases` failed (%(error)s): run it, then start Mailman core.") % {
                "error": self.aliases_error
            }
        if self.aliases_output is None:
            return _("Run `mailman aliases`, then start Mailman core.")
        return _("Start Mailman core.")


def plan_rename(
    old: str,
    new: str,
    *,
    display_name: str | None = None,
    allow_new_domain: bool = False,
    core: CoreOptions | None = None,
) -> RenamePlan:
    """Check that ``old`` can become ``new`` and say what that changes; change nothing.

    ``old`` and ``new`` are posting addresses or list-ids; ``display_name``
    defaults to the one Mailman derives from the new local part. Raise
    ``RenameError`` for every reason to refuse.
    """
    domains = known_domains()
    mailing_list = _find_list(old)
    old_name = ListName.from_posting_address(mailing_list.name)
    new_name = parse_list_name(new, domains)
    if new_name == old_name:
        raise RenameError(_("%(old)s and %(new)s are the same list.") % {"old": old, "new": new})
    if new_name.domain not in domains and not allow_new_domain:
        raise RenameError(
            _(
                "mailman-web knows no mail domain %(domain)r (it knows %(domains)s): "
                "allow a new domain explicitly to use it (rename_list --new-domain, or the "
                "admin's box to allow a new mail domain)."
            )
            % {"domain": new_name.domain, "domains": ", ".join(sorted(domains))}
        )
    new_display_name = _clean_display_name(display_name, new_name)
    old_defaults = {
        default_subject_prefix(mailing_list.display_name),
        default_subject_prefix(old_name.default_display_name),
    }
    new_subject_prefix = (
        default_subject_prefix(new_display_name)
        if mailing_list.subject_prefix in old_defaults
        else mailing_list.subject_prefix
    )
    old_list_id = mailing_list.list_id or old_name.list_id
    attachment_folder = getattr(settings, "HYPERKITTY_ATTACHMENT_FOLDER", None)
    attachment_folder = Path(attachment_folder) if attachment_folder else None
    plan = RenamePlan(
        mailing_list_id=mailing_list.pk,
        old=old_name,
        old_list_id=old_list_id,
        new=new_name,
        old_display_name=mailing_list.display_name,
        new_display_name=new_display_name,
        old_subject_prefix=mailing_list.subject_prefix,
        new_subject_prefix=new_subject_prefix,
        empty_row=_empty_row(new_name),
        templates=_check_templates(old_list_id, new_name.list_id),
        following=_following_rows(mailing_list),
        attachment_folder=attachment_folder,
        attachments_on_disk=_check_folders(attachment_folder, old_name, new_name),
        core_options=core,
    )
    if core is None:
        return plan
    try:
        core_plan = plan_core_rename(
            core.db_url,
            core.var_dir,
            old_list_id=old_list_id,
            new_list_id=new_name.list_id,
            new_list_name=new_name.local_part,
            new_mail_host=new_name.domain,
            new_display_name=new_display_name,
            # Core applies it only while its own prefix is the default one.
            new_subject_prefix=default_subject_prefix(new_display_name),
            check_stopped=not core.force,
            rest_url=settings.MAILMAN_REST_API_URL,
        )
    except CoreRenameError as error:
        raise RenameError(str(error)) from error
    return replace(plan, core=core_plan)


def _find_list(value: str) -> MailingList:
    text = value.strip().lower()
    field = "name" if "@" in text else "list_id"
    mailing_list = MailingList.objects.filter(**{field: text}).first()
    if mailing_list is None:
        raise RenameError(
            _("No archived list has the %(field)s %(value)r.")
            % {"field": _("posting address") if field == "name" else _("list-id"), "value": value}
        )
    return mailing_list


def _clean_display_name(display_name: str | None, new: ListName) -> str:
    if display_name is None:
        return new.default_display_name
    cleaned = display_name.strip()
    if not cleaned:
        raise RenameError(_("The display name is empty."))
    if len(cleaned) > DISPLAY_NAME_MAX_LENGTH:
        raise RenameError(
            _("The display name %(name)r is longer than %(max)d characters.")
            % {"name": cleaned, "max": DISPLAY_NAME_MAX_LENGTH}
        )
    return cleaned


def _empty_row(new: ListName) -> EmptyRow | None:
    """Find the row that already holds ``new``: refuse if it has archives, else merge it."""
    rows = list(
        MailingList.objects.filter(name=new.posting_address)
        | MailingList.objects.filter(list_id=new.list_id)
    )
    if not rows:
        return None
    if len(rows) > 1 or rows[0].name != new.posting_address:
        raise RenameError(
            _("The list-id %(list_id)r already belongs to the archived list %(name)s.")
            % {"list_id": new.list_id, "name": next(r.name for r in rows if r.name != str(new))}
        )
    row = rows[0]
    if _has_archives(row.pk):
        raise RenameError(
            _(
                "%(new)s already exists and has archived emails: refusing to mix two "
                "archives (list #%(id)d)."
            )
            % {"new": new, "id": row.pk}
        )
    return EmptyRow(
        id=row.pk,
        owner_ids=tuple(row.owners.order_by("pk").values_list("pk", flat=True)),
        moderator_ids=tuple(row.moderators.order_by("pk").values_list("pk", flat=True)),
    )


def _has_archives(mailing_list_id: int) -> bool:
    return (
        Email.objects.filter(mailinglist_id=mailing_list_id).exists()
        or Thread.objects.filter(mailinglist_id=mailing_list_id).exists()
    )


def _check_templates(old_list_id: str, new_list_id: str) -> int:
    """Count the list's templates; refuse if the new list-id already has the same ones."""
    templates = EmailTemplate.objects.filter(context="list", identifier=old_list_id)
    taken = EmailTemplate.objects.filter(identifier=new_list_id)
    # postorius' templates are unique by (name, identifier, language).
    clashing = sorted(
        set(templates.values_list("name", "language")) & set(taken.values_list("name", "language"))
    )
    if clashing:
        raise RenameError(
            _("Postorius already has templates for %(list_id)s: %(templates)s. Delete them first.")
            % {
                "list_id": new_list_id,
                "templates": ", ".join(
                    f"{name} ({language or '-'})" for name, language in clashing
                ),
            }
        )
    return templates.count()


def _following_rows(mailing_list: MailingList) -> FollowingRows:
    return FollowingRows(
        emails=Email.objects.filter(mailinglist=mailing_list).count(),
        threads=Thread.objects.filter(mailinglist=mailing_list).count(),
        attachments=Attachment.objects.filter(email__mailinglist=mailing_list).count(),
        votes=Vote.objects.filter(email__mailinglist=mailing_list).count(),
        favorites=Favorite.objects.filter(thread__mailinglist=mailing_list).count(),
        owners=mailing_list.owners.count(),
        moderators=mailing_list.moderators.count(),
    )


def _list_folder(attachment_folder: Path | None, name: ListName) -> Path | None:
    """The list's folder, laid out as hyperkitty's ``Attachment._get_folder``."""
    if attachment_folder is None:
        return None
    return attachment_folder / name.domain / name.local_part


def _check_folders(attachment_folder: Path | None, old: ListName, new: ListName) -> bool:
    """Say whether the old list's folder exists (and moves); refuse if the new one is in use."""
    if attachment_folder is None:
        return False
    target = _list_folder(attachment_folder, new)
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise RenameError(
            _("The attachment folder %(folder)s already exists and is not empty.")
            % {"folder": target}
        )
    return _list_folder(attachment_folder, old).is_dir()


def apply_rename(plan: RenamePlan, *, actor: str, progress: Progress | None = None) -> RenameReport:
    """Carry out ``plan``, then reindex the list's emails; return what was done.

    The web rows, core's rows (with ``plan.core``) and the attachment folder
    change together or not at all: any failure leaves them as they were. The
    search index is updated afterwards; ``progress(done, total)`` is called
    after each batch.
    """
    commit_rename(plan, actor=actor)
    aliases_output, aliases_error = _run_mailman_aliases(plan)
    try:
        reindexed = reindex_renamed_list(
            plan.mailing_list_id, plan.old.posting_address, progress=progress
        )
    except Exception as error:
        logger.exception("Reindexing %s after its rename failed", plan.new)
        raise RenameError(
            _(
                "%(old)s was renamed to %(new)s, but updating the search index failed "
                "(%(error)s): run `mailman-web update_index_one_list %(new)s`."
            )
            % {"old": plan.old, "new": plan.new, "error": error}
        ) from error
    return RenameReport(
        plan=plan,
        reindexed=reindexed.emails,
        stale_documents=reindexed.stale_documents,
        aliases_output=aliases_output,
        aliases_error=aliases_error,
    )


def _run_mailman_aliases(plan: RenamePlan) -> tuple[str | None, str | None]:
    """Regenerate the MTA maps when told how: ``(output, None)`` or ``(None, error)``."""
    if plan.core is None or not plan.core_options.mailman_bin:
        return None, None
    try:
        return run_mailman_aliases(plan.core_options.mailman_bin), None
    except CoreRenameError as error:
        logger.error("`mailman aliases` failed after renaming %s: %s", plan.old, error)
        return None, str(error)


def commit_rename(plan: RenamePlan, *, actor: str) -> None:
    """Change the web rows, core's rows and the attachment folder, all or nothing; log it."""
    folder_moved = False
    committed_core: CoreRename | None = None
    try:
        with transaction.atomic():
            _update_rows(plan)
            with _core_transaction(plan) as core:
                if plan.attachments_on_disk:
                    _move_folder(plan.old_folder, plan.new_folder)
                    folder_moved = True
                if core is not None:
                    core.commit()
                    committed_core = core
    except Exception as error:
        if folder_moved:
            _move_folder(plan.new_folder, plan.old_folder)
        if committed_core is not None:
            _revert_core(plan, committed_core, error)
        if isinstance(error, DatabaseError):
            raise RenameError(
                _("The web database refused the rename, nothing was changed: %(error)s")
                % {"error": error}
            ) from error
        raise
    logger.info(
        "List %s renamed to %s by %s: %s", plan.old, plan.new, actor, "; ".join(plan.describe())
    )


@contextmanager
def _core_transaction(plan: RenamePlan) -> Iterator[CoreRename | None]:
    """Core's open transaction for ``plan.core`` (rolled back unless committed), or None."""
    if plan.core is None:
        yield None
        return
    try:
        with CoreRename(plan.core) as core:
            yield core
    except CoreRenameError as error:
        raise RenameError(str(error)) from error


def _revert_core(plan: RenamePlan, core: CoreRename, error: Exception) -> None:
    """Undo core's committed rename after the web side failed; raise a loud ``RenameError``."""
    logger.critical(
        "Renaming %s to %s: the web database failed after core committed (%s); reverting core",
        plan.old,
        plan.new,
        error,
    )
    try:
        core.revert()
    except Exception as revert_error:
        logger.critical("Reverting core's rename of %s failed: %s", plan.old, revert_error)
        raise RenameError(
            _(
                "DANGER: Mailman core now calls the list %(new)s but mailman-web still "
                "calls it %(old)s: the web database failed (%(error)s) after core "
                "committed, and undoing core's rename failed too (%(revert_error)s). "
                "Fix core by hand before starting it."
            )
            % {
                "new": plan.new,
                "old": plan.old,
                "error": error,
                "revert_error": revert_error,
            }
        ) from error
    raise RenameError(
        _(
            "The web database failed (%(error)s) after Mailman core had committed the "
            "rename: core's rename was undone, both sides still call the list %(old)s."
        )
        % {"error": error, "old": plan.old}
    ) from error


def _update_rows(plan: RenamePlan) -> None:
    """The web database's part, in the caller's transaction; check the plan still holds."""
    mailing_list = (
        MailingList.objects.select_for_update()
        .filter(pk=plan.mailing_list_id, name=plan.old.posting_address)
        .first()
    )
    if mailing_list is None or _empty_row(plan.new) != plan.empty_row:
        raise RenameError(
            _("%(old)s or %(new)s changed since the plan was made: nothing was changed, try again.")
            % {"old": plan.old, "new": plan.new}
        )
    if plan.empty_row is not None:
        mailing_list.owners.add(*plan.empty_row.owner_ids)
        mailing_list.moderators.add(*plan.empty_row.moderator_ids)
        MailingList.objects.filter(pk=plan.empty_row.id).delete()
    MailingList.objects.filter(pk=plan.mailing_list_id).update(
        name=plan.new.posting_address,
        list_id=plan.new.list_id,
        display_name=plan.new_display_name,
        subject_prefix=plan.new_subject_prefix,
    )
    # QuerySet.update(): EmailTemplate.save() would call core's REST API.
    EmailTemplate.objects.filter(context="list", identifier=plan.old_list_id).update(
        identifier=plan.new.list_id
    )


def _move_folder(source: Path, target: Path) -> None:
    """Move an attachment folder to ``target``, which is absent or an empty folder."""
    if target.is_dir():
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)
