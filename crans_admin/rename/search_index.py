"""The search index's side of a list rename: the list's documents filed under its new address.

Each email's document holds the posting address of its list (hyperkitty's
``EmailIndex`` field ``mailinglist``), so a rename changes every document of
the list. :func:`reindex_renamed_list` does it, in the way the backend allows:

- Whoosh and Xapian keep each document whole (Whoosh stores every field,
  Xapian the prepared document in the document's data). The documents filed
  under the old address are read back from the index, their list fields set
  to the new values, and written again: Whoosh in one writer and one commit,
  Xapian through its backend's own ``update``. No query per email, no
  template rendered. One email is prepared afresh first: if its document is
  not what that gives (a template that shows the list, an index out of
  date), every email is prepared again instead.
- Other backends: every email is prepared again from the database
  (:func:`reindex_list`), through haystack's backend API, as hyperkitty's
  ``update_index_one_list`` does.

Either way the index ends as a full reindex of the list would leave it (the
tests compare both indexes).
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any, Protocol

from haystack import connections as search_connections
from haystack.backends import BaseSearchBackend
from haystack.constants import DEFAULT_ALIAS as SEARCH_ALIAS
from haystack.constants import DJANGO_ID, ID
from haystack.indexes import SearchIndex
from haystack.query import SearchQuerySet
from hyperkitty.models import Email, MailingList

logger = logging.getLogger(__name__)

# The field of hyperkitty's EmailIndex that holds the list's posting address.
ADDRESS_FIELD = "mailinglist"
# Emails prepared from the database per ``update`` call (one commit each).
# Whoosh's cost per document grows with the index it commits to, so few
# commits is what matters; 10 000 emails are some 100 MB in memory.
REINDEX_BATCH_SIZE = 10_000
# Xapian: stored documents rewritten per ``update`` call (a few kB each).
REPLAY_BATCH_SIZE = 50_000
# Whoosh: seconds to wait for the index's lock (hyperkitty's periodic job may hold it).
WRITER_LOCK_TIMEOUT = 120

Progress = Callable[[int, int], None]
Document = dict[str, Any]


@dataclass(frozen=True)
class Reindexed:
    """What :func:`reindex_renamed_list` did."""

    emails: int  # documents written under the new address
    stale_documents: int  # documents of deleted emails removed from under the old address
    replayed: bool  # stored documents rewritten, rather than emails prepared again


def reindex_renamed_list(
    mailing_list_id: int, old_address: str, *, progress: Progress | None = None
) -> Reindexed:
    """File the documents of list ``mailing_list_id``, renamed from ``old_address``, under its name.

    Call it once the rename is committed to the database. Documents of emails
    deleted since they were indexed leave the old address; emails that had no
    document get one. Running it again finishes an interrupted run.
    ``progress(done, total)`` is called before and as documents are written.
    """
    connection = search_connections[SEARCH_ALIAS]
    backend = connection.get_backend()
    index = connection.get_unified_index().get_index(Email)
    store = stored_documents(backend, index)
    if store is not None:
        replayed = _replay(store, index, mailing_list_id, old_address, progress)
        if replayed is not None:
            return replayed
    emails = reindex_list(mailing_list_id, progress=progress)
    return Reindexed(emails, remove_stale_documents(old_address), replayed=False)


class StoredDocuments(Protocol):
    """A backend's documents as it keeps them, read back and written again."""

    def under(
        self, address: str, *, among: Collection[int] | None = None, limit: int | None = None
    ) -> dict[int, Document]:
        """Documents filed exactly under ``address`` (of emails ``among``), by email id."""

    def as_stored(self, prepared: Document) -> Document:
        """``index.full_prepare()``'s document as the backend keeps it."""

    def rename(self, old_address: str, values: Document, email_ids: Collection[int]) -> Renamed:
        """Write the documents under ``old_address`` again with ``values``; drop stale ones."""


@dataclass(frozen=True)
class Renamed:
    written: set[int]  # ids of the emails whose documents were written again
    stale: int  # documents removed: their email is no longer in the list


def stored_documents(backend: BaseSearchBackend, index: SearchIndex) -> StoredDocuments | None:
    """The backend's documents, when it keeps them whole; None otherwise."""
    engine = type(backend).__module__
    if engine == "haystack.backends.whoosh_backend":
        return WhooshDocuments.of(backend, index)
    if engine == "xapian_backend":
        return XapianDocuments(backend, index)
    return None


class WhooshDocuments:
    """Whoosh's stored fields: haystack stores every field, unless a field says otherwise.

    A rename is one Whoosh writer and one commit: each document is deleted
    and added again, read from the index itself.
    """

    def __init__(self, backend: BaseSearchBackend, index: SearchIndex) -> None:
        self.backend = backend
        self.field = index.fields[ADDRESS_FIELD].index_fieldname

    @classmethod
    def of(cls, backend: BaseSearchBackend, index: SearchIndex) -> WhooshDocuments | None:
        if not backend.setup_complete:
            backend.setup()
        names = [ID, DJANGO_ID] + [field.index_fieldname for field in index.fields.values()]
        if not all(backend.schema[name].stored for name in names):
            return None
        return cls(backend, index)

    def under(
        self, address: str, *, among: Collection[int] | None = None, limit: int | None = None
    ) -> dict[int, Document]:
        self.backend.index = self.backend.index.refresh()
        documents = {}
        with self.backend.index.searcher() as searcher:
            for _number, pk, document in self._documents(searcher, address):
                if among is None or pk in among:
                    documents[pk] = document
                    if len(documents) == limit:
                        break
        return documents

    def _documents(self, searcher, address: str) -> Iterator[tuple[int, int, Document]]:
        """``(document number, email id, stored fields)`` of the documents under ``address``."""
        from whoosh.query import And, Every, Term

        # The address's words select a superset; the stored value decides.
        words = sorted(set(self.backend.schema[self.field].process_text(address, mode="query")))
        query = And([Term(self.field, word) for word in words]) if words else Every()
        for number in list(searcher.docs_for_query(query)):
            document = searcher.stored_fields(number)
            if document.get(self.field) == address:
                yield number, int(document[DJANGO_ID]), document

    def as_stored(self, prepared: Document) -> Document:
        # What haystack's WhooshSearchBackend.update hands Whoosh.
        return {
            name: self.backend._from_python(value)
            for name, value in prepared.items()
            if name != "boost"
        }

    def rename(self, old_address: str, values: Document, email_ids: Collection[int]) -> Renamed:
        self.backend.index = self.backend.index.refresh()
        writer = _writer(self.backend.index)
        written, stale = set(), 0
        try:
            with writer.searcher() as searcher:
                for number, pk, document in self._documents(searcher, old_address):
                    writer.delete_document(number)
                    if pk in email_ids:
                        writer.add_document(**{**document, **values})
                        written.add(pk)
                    else:
                        stale += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return Renamed(written, stale)


def _writer(index):
    """A Whoosh writer of ``index`` (waiting for its lock) that commits with fewer system calls.

    For each posting it writes, Whoosh asks whether the new segment has a
    length column for the posting's field: a ``stat`` of a file, absent for
    the fields without lengths (ids, dates), tens of times per email. This
    writer's segment remembers the answers; the segment it writes is the same.
    """
    from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader
    from whoosh.writing import SegmentWriter

    class LengthsReader(W3PerDocReader):
        def has_column(self, fieldname: str) -> bool:
            columns = self.__dict__.setdefault("columns", {})
            if fieldname not in columns:
                columns[fieldname] = super().has_column(fieldname)
            return columns[fieldname]

    class Writer(SegmentWriter):
        def per_document_reader(self):
            if type(self.codec) is not W3Codec:
                return super().per_document_reader()
            return LengthsReader(self.storage, self.get_segment())

    return Writer(index, timeout=WRITER_LOCK_TIMEOUT)


class XapianDocuments:
    """xapian-haystack's documents: the prepared document is pickled in each one's data.

    A rename goes through the backend's own ``update`` (one database opened
    for writing, one commit per batch), fed with the stored documents.
    """

    def __init__(self, backend: BaseSearchBackend, index: SearchIndex) -> None:
        from xapian_backend import TERM_PREFIXES

        self.backend = backend
        self.index = index
        self.field = index.fields[ADDRESS_FIELD].index_fieldname
        self.prefix = TERM_PREFIXES["field"] + self.field.upper()

    def under(
        self, address: str, *, among: Collection[int] | None = None, limit: int | None = None
    ) -> dict[int, Document]:
        from xapian_backend import InvalidIndexError

        try:
            database = self.backend._database()
        except InvalidIndexError:  # no index yet
            return {}
        documents = {}
        # A text field's value is also indexed as one literal term.
        for posting in database.postlist(self.prefix + address.lower()):
            app_label, model_name, pk, document = pickle.loads(
                database.get_document(posting.docid).get_data()
            )
            if (
                (app_label, model_name) == (Email._meta.app_label, Email._meta.model_name)
                and document.get(self.field) == address
                and (among is None or pk in among)
            ):
                documents[pk] = document
                if len(documents) == limit:
                    break
        database.close()
        return documents

    def as_stored(self, prepared: Document) -> Document:
        return prepared

    def rename(self, old_address: str, values: Document, email_ids: Collection[int]) -> Renamed:
        written, stale = set(), 0
        while documents := self.under(old_address, limit=REPLAY_BATCH_SIZE):
            for pk in documents.keys() - email_ids:
                self.backend.remove(f"{Email._meta.label_lower}.{pk}")
                stale += 1
            renamed = {
                pk: {**document, **values} for pk, document in documents.items() if pk in email_ids
            }
            if renamed:
                replay = ReplayIndex(self.index, renamed)
                self.backend.update(replay, [Email(pk=pk) for pk in renamed])
                written.update(renamed)
        return Renamed(written, stale)


class ReplayIndex:
    """``index``, handing the backend documents already prepared instead of preparing them."""

    def __init__(self, index: SearchIndex, documents: dict[int, Document]) -> None:
        self.index = index
        self.documents = documents

    def full_prepare(self, obj: Email) -> Document:
        return dict(self.documents[obj.pk])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)


def _replay(
    store: StoredDocuments,
    index: SearchIndex,
    mailing_list_id: int,
    old_address: str,
    progress: Progress | None,
) -> Reindexed | None:
    """Rewrite the stored documents under the list's name; None if preparing gives others."""
    mailing_list = MailingList.objects.get(pk=mailing_list_id)
    values = store.as_stored(_list_values(index, mailing_list))
    email_ids = set(
        Email.objects.filter(mailinglist_id=mailing_list_id).values_list("pk", flat=True)
    )
    total = len(email_ids)
    _report(progress, 0, total)
    sample = store.under(old_address, among=email_ids, limit=1)
    if sample and not _prepares_as(store, index, *sample.popitem(), values):
        return None
    already = store.under(mailing_list.name, among=email_ids).keys()
    renamed = store.rename(old_address, values, email_ids)
    missing = email_ids - renamed.written - already
    if missing:
        reindex_list(mailing_list_id, only=missing)
    _report(progress, total, total)
    return Reindexed(len(renamed.written) + len(missing), renamed.stale, replayed=True)


def _list_values(index: SearchIndex, mailing_list: MailingList) -> Document:
    """The values of the index's fields that derive from the list (``mailinglist__...``)."""
    email = Email(mailinglist=mailing_list)
    return {
        field.index_fieldname: field.prepare(email)
        for field in index.fields.values()
        if (field.model_attr or "").startswith("mailinglist__")
    }


def _prepares_as(
    store: StoredDocuments, index: SearchIndex, pk: int, document: Document, values: Document
) -> bool:
    """Whether the email, prepared afresh, gives its stored document with the list's values."""
    email = _emails(Email.objects.filter(pk=pk)).first()
    prepared = store.as_stored(index.full_prepare(email))
    expected = store.as_stored({**document, **values})
    differing = sorted(
        name
        for name in prepared.keys() | expected.keys()
        if prepared.get(name) != expected.get(name)
    )
    if differing:
        logger.warning(
            "The search document of email %d is not what preparing the email gives (%s): "
            "preparing every email of its list again",
            pk,
            ", ".join(differing),
        )
    return not differing


def _emails(emails):
    """``emails`` with what their documents need, in a stable order."""
    return (
        emails.select_related("mailinglist", "thread")
        .prefetch_related("attachments", "thread__tags")
        .order_by("pk")
    )


def reindex_list(
    mailing_list_id: int,
    *,
    only: Iterable[int] | None = None,
    batch_size: int = REINDEX_BATCH_SIZE,
    progress: Progress | None = None,
) -> int:
    """Prepare the documents of the list's emails (or of those in ``only``) again; return how many.

    Documents keep their ids (``hyperkitty.email.<pk>``), so each update
    replaces the email's document, with the list's current posting address.
    Goes through haystack's backend API, whatever the backend.
    """
    connection = search_connections[SEARCH_ALIAS]
    backend = connection.get_backend()
    index = connection.get_unified_index().get_index(Email)
    emails = _emails(Email.objects.filter(mailinglist_id=mailing_list_id))
    if only is not None:
        emails = emails.filter(pk__in=list(only))
    total = emails.count()
    done = 0
    _report(progress, done, total)
    for batch in _batches(emails.iterator(chunk_size=batch_size), batch_size):
        backend.update(index, batch)
        done += len(batch)
        _report(progress, done, total)
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


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _batches(items: Iterator[Email], size: int) -> Iterator[list[Email]]:
    while batch := list(islice(items, size)):
        yield batch
