"""The search index's side of a rename, on Whoosh and on Xapian: equal to a full reindex."""

import json
import subprocess
import sys

import pytest
from haystack import connections
from hyperkitty.models import Email, MailingList, Tag, Tagging

from crans_admin.rename import plan_rename, reindex_list, reindex_renamed_list, rename_web_rows
from crans_admin.rename.search_index import XapianDocuments, stored_documents
from devstack.search_index import ENGINES as SEARCH_ENGINES
from devstack.search_index import index_contents, use_search_index
from tests.conftest import REPO
from tests.fixtures.archives import index_list, search, search_page

OLD = "tresorier@lists.crans.org"
NEW = "tresorerie@lists.crans.org"
ENGINES = pytest.mark.parametrize("search_index", ["whoosh", "xapian"], indirect=True)


def commit_rename(old: str, new: str) -> None:
    """The web database's side of the rename only: the search index is what is tested."""
    plan = plan_rename(old, new, core_renamed_separately=True)
    rename_web_rows(plan, first_run=True, mark_done=lambda: None)


def full_reindex(engine: str, folder) -> dict:
    """What preparing every email of every list again gives, in a fresh index."""
    use_search_index(engine, folder)
    for mailing_list in MailingList.objects.all():
        index_list(mailing_list.name)
    return index_contents()


def current_engine() -> str:
    module = type(connections["default"].get_backend()).__module__
    return next(name for name, engine in SEARCH_ENGINES.items() if engine.startswith(module))


@ENGINES
def test_rename_gives_the_index_of_a_full_reindex(archives, search_index, tmp_path):
    # An index as hyperkitty's jobs leave it: an email deleted since it was indexed
    # (its document stays), another archived but not indexed yet.
    Email.objects.filter(message_id="m5@crans.org").delete()
    late = Email.objects.get(message_id="m4@crans.org")
    connections["default"].get_backend().remove(late)
    before = index_contents()
    assert f"hyperkitty.email.{late.pk}" not in before
    commit_rename(OLD, NEW)
    calls = []

    result = reindex_renamed_list(
        archives.tresorier.pk, OLD, progress=lambda *call: calls.append(call)
    )

    assert result.replayed
    assert (result.emails, result.stale_documents) == (4, 1)
    assert calls == [(0, 4), (4, 4)]
    renamed = index_contents()
    assert renamed == full_reindex(current_engine(), tmp_path / "full")
    assert {document["stored"]["mailinglist"] for document in renamed.values()} == {
        NEW,
        archives.bureau.name,
    }
    # The other list's documents are the very ones it had.
    bureau = {key: value for key, value in renamed.items() if value["stored"]["mailinglist"] != NEW}
    assert bureau == {
        key: value for key, value in before.items() if value["stored"]["mailinglist"] != OLD
    }


@ENGINES
def test_search_finds_the_emails_under_the_new_name_only(archives, search_index, client):
    assert search_page(client, OLD) == archives.word_count
    commit_rename(OLD, NEW)
    reindex_renamed_list(archives.tresorier.pk, OLD)
    assert search(NEW) == archives.word_count
    assert search(OLD) == 0
    assert search(archives.bureau.name) == 1
    assert search_page(client, NEW) == archives.word_count
    assert search_page(client, archives.bureau.name) == 1


@ENGINES
def test_a_second_run_finds_nothing_left_to_do(archives, search_index):
    commit_rename(OLD, NEW)
    reindex_renamed_list(archives.tresorier.pk, OLD)
    once = index_contents()
    result = reindex_renamed_list(archives.tresorier.pk, OLD)
    assert (result.emails, result.stale_documents) == (0, 0)
    assert index_contents() == once


@ENGINES
def test_documents_that_differ_from_their_email_are_prepared_again(
    archives, search_index, tmp_path
):
    # The first email's document no longer matches the email (a tag added since
    # it was indexed): its stored documents are not trusted, every email is
    # prepared again.
    first = Email.objects.get(message_id="m1@crans.org")
    Tagging.objects.create(
        thread=first.thread, tag=Tag.objects.create(name="budget"), user=archives.alice
    )
    commit_rename(OLD, NEW)

    result = reindex_renamed_list(archives.tresorier.pk, OLD)

    assert not result.replayed
    assert (result.emails, result.stale_documents) == (5, 0)
    assert index_contents() == full_reindex(current_engine(), tmp_path / "full")


@ENGINES
def test_the_rename_queries_do_not_grow_with_the_list(
    archives, search_index, django_assert_num_queries
):
    """The list, its email ids, the sample email (with two prefetches): no query per email."""
    commit_rename(OLD, NEW)
    with django_assert_num_queries(2 + 3):
        result = reindex_renamed_list(archives.tresorier.pk, OLD)
    assert result.replayed and result.emails == 5


def test_backends_that_keep_no_whole_document_prepare_every_email(archives, settings):
    # haystack's simple backend searches the database and keeps no index at all.
    settings.HAYSTACK_CONNECTIONS = {
        "default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}
    }
    connections.connections_info = settings.HAYSTACK_CONNECTIONS
    connections.reload("default")
    backend = connections["default"].get_backend()
    index = connections["default"].get_unified_index().get_index(Email)
    assert stored_documents(backend, index) is None
    commit_rename(OLD, NEW)
    with pytest.warns(UserWarning, match="update is not implemented in this backend"):
        result = reindex_renamed_list(archives.tresorier.pk, OLD)
    assert not result.replayed
    assert result.emails == 5


def test_whoosh_fields_that_are_not_stored_prepare_every_email(db, search_index):
    backend = connections["default"].get_backend()
    unified = connections["default"].get_unified_index()
    index = unified.get_index(Email)
    assert stored_documents(backend, index) is not None
    field = unified.all_searchfields()["archived_date"]
    field.stored = False
    try:
        backend.setup()
        assert stored_documents(backend, index) is None
    finally:
        field.stored = True
        backend.setup()


@pytest.mark.parametrize("search_index", ["xapian"], indirect=True)
def test_xapian_finds_no_document_in_an_index_not_made_yet(db, search_index):
    backend = connections["default"].get_backend()
    index = connections["default"].get_unified_index().get_index(Email)
    assert XapianDocuments(backend, index).under(OLD) == {}


def test_reindex_goes_by_batches_and_reports_progress(archives):
    MailingList.objects.filter(pk=archives.tresorier.pk).update(name=NEW)
    calls = []
    count = reindex_list(archives.tresorier.pk, batch_size=2, progress=lambda *c: calls.append(c))
    assert count == 5
    assert calls == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert search(NEW) == archives.word_count


def test_reindex_queries_do_not_grow_with_the_list(archives, django_assert_num_queries):
    """The count, the emails (one server-side cursor), two prefetches per batch."""
    MailingList.objects.filter(pk=archives.tresorier.pk).update(name=NEW)
    with django_assert_num_queries(2 + 2):
        reindex_list(archives.tresorier.pk)
    with django_assert_num_queries(2 + 2 * 3):  # batches of 2 emails: 2 + 2 + 1
        reindex_list(archives.tresorier.pk, batch_size=2)
    assert search(NEW) == archives.word_count


@pytest.mark.parametrize(
    ("value", "engine", "folder"),
    [
        (None, "haystack.backends.whoosh_backend.WhooshEngine", "fulltext_index"),
        ("whoosh", "haystack.backends.whoosh_backend.WhooshEngine", "fulltext_index"),
        ("xapian", "xapian_backend.XapianEngine", "xapian_index"),
    ],
)
def test_the_search_engine_is_a_setting(tmp_path, value, engine, folder):
    environment = {"MAILMAN_WEB_BASE_DIR": str(tmp_path)}
    if value is not None:
        environment["MAILMAN_WEB_SEARCH_ENGINE"] = value
    assert read_setting("HAYSTACK_CONNECTIONS", environment) == {
        "default": {"ENGINE": engine, "PATH": str(tmp_path / folder)}
    }


def test_an_unknown_search_engine_stops_start_up(tmp_path):
    with pytest.raises(AssertionError, match="MAILMAN_WEB_SEARCH_ENGINE.*'solr'.*whoosh, xapian"):
        read_setting("HAYSTACK_CONNECTIONS", {"MAILMAN_WEB_SEARCH_ENGINE": "solr"})


def read_setting(name: str, environment: dict[str, str]):
    """The value of ``<name>`` in Crans' settings, in a fresh interpreter with ``environment``."""
    code = (
        "import json\nfrom crans_mailman_web_settings import crans\n"
        f"print(json.dumps(crans.{name}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr)
    return json.loads(result.stdout)
