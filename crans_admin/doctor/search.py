"""Check of the search index: it is there, opens, and matches the archives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..text import first_line
from .registry import Finding, check, error, ok, warning

# hyperkitty indexes new emails hourly (its update_index job): older
# unindexed emails mean that the job does not run.
INDEX_LAG = timedelta(hours=2)


def missing_index() -> Path | None:
    """The folder of a file-based index (Whoosh, Xapian) that holds no index, else None.

    Checked before haystack opens the index: opening a missing one creates it empty.
    """
    from haystack import connections

    options = connections.connections_info["default"]
    if not options.get("PATH"):  # a search server (Elasticsearch, Solr)
        return None
    folder = Path(options["PATH"])
    if "whoosh" in options.get("ENGINE", "").lower():
        from whoosh.index import exists_in

        present = folder.is_dir() and exists_in(str(folder))
    else:
        present = folder.is_dir() and any(folder.iterdir())
    return None if present else folder


@check("search", gettext_lazy("Search index"), timeout=60.0)
def check_search(timeout: float) -> Finding:
    from haystack.query import SearchQuerySet
    from hyperkitty.models import Email, MailingList

    rebuild = _("Build it again: mailman-web rebuild_index --noinput (it takes a while).")
    folder = missing_index()
    if folder is not None:
        return error(
            _("There is no search index at %(path)s: searching the archives finds nothing.")
            % {"path": folder},
            rebuild,
        )
    documents = SearchQuerySet().models(Email)
    try:
        latest = list(documents.order_by("-archived_date")[:1])
    except Exception as exception:  # each backend raises its own errors
        return error(
            _("The search index cannot be read: %(error)s") % {"error": first_line(exception)},
            rebuild,
        )
    if not latest:
        if Email.objects.exists():
            return error(
                _("The search index is empty, while %(count)d emails are archived.")
                % {"count": Email.objects.count()},
                rebuild,
            )
        return ok(_("The search index is empty, as are the archives."))
    indexed_until = latest[0].archived_date
    drifting, extra = [], []
    for mailing_list in MailingList.objects.order_by("name"):
        indexed = documents.filter(mailinglist__exact=mailing_list.name).count()
        emails = Email.objects.filter(mailinglist=mailing_list)
        expected = emails.filter(archived_date__lte=indexed_until).count()
        total = emails.count()
        if indexed < expected:
            drifting.append(
                _(
                    "%(list)s: %(indexed)d of %(expected)d emails in the index; mailman-web "
                    "update_index_one_list %(list)s"
                )
                % {"list": mailing_list.name, "indexed": indexed, "expected": expected}
            )
        elif indexed > total:
            extra.append(
                _("%(list)s: %(indexed)d documents for %(total)d emails")
                % {"list": mailing_list.name, "indexed": indexed, "total": total}
            )
    if drifting:
        return error(
            _(
                "%(count)d list(s) have emails missing from the search index: searches in "
                "them miss those emails."
            )
            % {"count": len(drifting)},
            _("Reindex each list below with mailman-web update_index_one_list <list>."),
            drifting,
        )
    if extra:
        return warning(
            _("%(count)d list(s) have documents of deleted emails in the search index.")
            % {"count": len(extra)},
            _("Remove them: mailman-web update_index --remove."),
            extra,
        )
    waiting = Email.objects.filter(archived_date__gt=indexed_until)
    oldest = waiting.order_by("archived_date").values_list("archived_date", flat=True).first()
    if oldest is not None and timezone.now() - oldest > INDEX_LAG:
        return warning(
            _("%(count)d emails archived since %(date)s are not indexed yet.")
            % {"count": waiting.count(), "date": oldest.isoformat(timespec="minutes")},
            _(
                "Make cron run mailman-web runjobs hourly: hyperkitty's update_index job "
                "indexes new emails."
            ),
        )
    return ok(
        _("The search index opens and matches the archives of %(count)d list(s).")
        % {"count": MailingList.objects.count()}
    )
