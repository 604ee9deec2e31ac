"""The plan of a rename: everything checked, every change counted, nothing changed.

Mailman cannot rename a list. On the web side a list is one
``hyperkitty_mailinglist`` row: its emails, threads, owners and moderators
point at it by integer id and follow without being touched. Three things hold
the list by name: the row itself (``name``, ``list_id``, ``display_name``,
``subject_prefix``), postorius' list templates (``identifier`` is the list-id)
and, outside the database, the attachment folder
``HYPERKITTY_ATTACHMENT_FOLDER/<domain>/<local part>`` and the search index
(each email's document holds the list's posting address). Given Mailman core's
database and var dir, :mod:`.mailman_core` plans core's side in the same plan.

:func:`plan_rename` checks everything and says what would change (a dry run
stops there); :mod:`.steps` carries the plan out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _
from hyperkitty.models import Attachment, Email, Favorite, MailingList, Thread, Vote
from postorius.models import EmailTemplate

from .core_options import CoreOptions
from .exceptions import CoreServesOldName, MailmanCoreError, RenameError
from .mailman_core import CoreRenamePlan, core_serves_list, plan_core_rename
from .names import (
    DISPLAY_NAME_MAX_LENGTH,
    ListName,
    default_subject_prefix,
    known_domains,
    parse_list_name,
)


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
    # Web-only renames: whether core's REST API served the old list (None: it
    # could not be asked); the rename was then told that core is renamed apart.
    core_serves_old: bool | None = None

    def to_data(self) -> dict:
        """The plan as JSON data, for the journal and the confirmation digest; no secret."""
        data = asdict(replace(self, core=None, core_options=None))
        data["attachment_folder"] = (
            None if self.attachment_folder is None else str(self.attachment_folder)
        )
        data["core"] = None if self.core is None else self.core.to_data()
        options = self.core_options
        data["core_options"] = None
        if options is not None:
            data["core_options"] = {
                "var_dir": str(options.var_dir),
                "force": options.force,
                "mailman_bin": options.mailman_bin,
                "alias_map": None if options.alias_map is None else str(options.alias_map),
            }
        return data

    @classmethod
    def from_data(cls, data: dict, db_url: str | None) -> RenamePlan:
        """The plan of the journal; ``db_url``: core's database, when the plan has a core side."""
        options = data["core_options"]
        core_options = None
        if options is not None:
            alias_map = options["alias_map"]
            core_options = CoreOptions(
                db_url=db_url or "",
                var_dir=Path(options["var_dir"]),
                force=options["force"],
                mailman_bin=options["mailman_bin"],
                alias_map=None if alias_map is None else Path(alias_map),
            )
        empty_row = data["empty_row"]
        return cls(
            **{
                **data,
                "old": ListName(**data["old"]),
                "new": ListName(**data["new"]),
                "empty_row": None
                if empty_row is None
                else EmptyRow(
                    id=empty_row["id"],
                    owner_ids=tuple(empty_row["owner_ids"]),
                    moderator_ids=tuple(empty_row["moderator_ids"]),
                ),
                "following": FollowingRows(**data["following"]),
                "attachment_folder": None
                if data["attachment_folder"] is None
                else Path(data["attachment_folder"]),
                "core": None
                if data["core"] is None
                else CoreRenamePlan.from_data(data["core"], db_url or ""),
                "core_options": core_options,
            }
        )

    @property
    def obstacles(self) -> tuple[str, ...]:
        """What the real run would refuse now (a preview while Mailman core runs)."""
        return () if self.core is None else self.core.obstacles

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
            _("%(row)s: %(field)s %(old)r -> %(new)r")
            % {"row": row, "field": field, "old": old, "new": new}
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
            lines.append(
                {
                    True: _(
                        "Mailman core: not part of this rename; its REST API still serves "
                        "%(old)s (core is renamed separately)"
                    ),
                    False: _("Mailman core: not part of this rename; it does not serve %(old)s"),
                    None: _(
                        "Mailman core: not part of this rename; its REST API could not be "
                        "asked about %(old)s (core is renamed separately)"
                    ),
                }[self.core_serves_old]
                % {"old": self.old_list_id}
            )
        else:
            lines.extend(
                _("Mailman core: %(change)s") % {"change": line} for line in self.core.describe()
            )
        return lines


def plan_rename(
    old: str,
    new: str,
    *,
    display_name: str | None = None,
    allow_new_domain: bool = False,
    core: CoreOptions | None = None,
    core_renamed_separately: bool = False,
    preview: bool = False,
) -> RenamePlan:
    """Check that ``old`` can become ``new`` and say what that changes; change nothing.

    ``old`` and ``new`` are posting addresses or list-ids; ``display_name``
    defaults to the one Mailman derives from the new local part. Without
    ``core``, core's REST API is asked whether it serves the old list, and the
    rename refused if it does (or cannot be asked) unless
    ``core_renamed_separately``. Raise ``RenameError`` for every reason to refuse;
    a ``preview`` (a dry run) plans while core runs, and its plan's
    :attr:`~RenamePlan.obstacles` say what the real run will require.
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
        empty_row=find_empty_row(new_name),
        templates=_check_templates(old_list_id, new_name.list_id),
        following=_following_rows(mailing_list),
        attachment_folder=attachment_folder,
        attachments_on_disk=_check_folders(attachment_folder, old_name, new_name),
        core_options=core,
    )
    if core is None:
        return replace(
            plan, core_serves_old=_check_core_serves_old(old_list_id, core_renamed_separately)
        )
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
        preview=preview,
    )
    return replace(plan, core=core_plan)


def _check_core_serves_old(old_list_id: str, core_renamed_separately: bool) -> bool | None:
    """Ask core's REST API whether it serves the old list; refuse unless renamed apart."""
    try:
        serves = core_serves_list(
            settings.MAILMAN_REST_API_URL,
            getattr(settings, "MAILMAN_REST_API_USER", "restadmin"),
            getattr(settings, "MAILMAN_REST_API_PASS", ""),
            old_list_id,
        )
    except MailmanCoreError as error:
        if core_renamed_separately:
            return None
        raise CoreServesOldName(old_list_id, str(error)) from error
    if serves and not core_renamed_separately:
        raise CoreServesOldName(old_list_id)
    return serves


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


def find_empty_row(new: ListName) -> EmptyRow | None:
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
