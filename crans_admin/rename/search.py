"""The search index of a renamed list: its emails' documents under the new name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice

from haystack import connections as search_connections
from haystack.constants import DEFAULT_ALIAS as SEARCH_ALIAS
from haystack.query import SearchQuerySet
from hyperkitty.models import Email

# Emails sent to the search backend in one ``update`` call (one commit each).
# Whoosh's cost per document grows with the index it commits to, so few
# commits is what matters; 10 000 emails are some 100 MB in memory.
REINDEX_BATCH_SIZE = 10_000

Progress = Callable[[int, int], None]


def update_search_index(
    mailing_list_id: int, former_name: str, *, progress: Progress | None = None
) -> tuple[int, int]:
    """Reindex the list under its current name, then clear ``former_name``; return the counts."""
    reindexed = reindex_list(mailing_list_id, progress=progress)
    return reindexed, remove_stale_documents(former_name)


def reindex_list(
    mailing_list_id: int, *, batch_size: int = REINDEX_BATCH_SIZE, progress: Progress | None = None
) -> int:
    """Update the search documents of every email of the list; return how many.

    Documents keep their ids (``hyperkitty.email.<pk>``), so each update
    replaces the email's document, with the list's current posting address.
    Goes through haystack's backend API, whatever the backend.
    """
    connection = search_connections[SEARCH_ALIAS]
    backend = connection.get_backend()
    index = connection.get_unified_index().get_index(Email)
    emails = (
        Email.objects.filter(mailinglist_id=mailing_list_id)
        .select_related("mailinglist", "thread")
        .prefetch_related("attachments", "thread__tags")
        .order_by("pk")
    )
    total = emails.count()
    done = 0
    if progress is not None:
        progress(done, total)
    for batch in _batches(emails.iterator(chunk_size=batch_size), batch_size):
        backend.update(index, batch)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return done


def remove_stale_documents(posting_address: str, *, page_size: int = REINDEX_BATCH_SIZE) -> int:
    """Remove the documents still filed under ``posting_address`` (emails deleted since)."""
    backend = search_connections[SEARCH_ALIAS].get_backend()
    results = (
        SearchQuerySet(using=SEARCH_ALIAS)
        .models(Email)
        .filter(mailinglist__exact=posting_address)
        .order_by("date")
    )
    stale = []
    for start in range(0, results.count(), page_size):
        # The filter matches a phrase, which other addresses may contain: keep exact ones.
        stale.extend(
            result.id
            for result in results[start : start + page_size]
            if result.mailinglist == posting_address
        )
    for document_id in stale:
        backend.remove(document_id)
    return len(stale)


def _batches(items: Iterator[Email], size: int) -> Iterator[list[Email]]:
    while batch := list(islice(items, size)):
        yield batch
