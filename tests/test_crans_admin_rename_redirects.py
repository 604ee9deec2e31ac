"""Old URLs of a renamed list answer 301 to the same page under its current name."""

import io
import os
import subprocess
import sys
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hyperkitty.models import ArchivePolicy, Email, MailingList

from crans_admin.rename import redirects
from crans_admin.rename.redirects import current_list
from tests.conftest import REPO

MIDDLEWARE = "crans_admin.rename.redirects.OldListNameRedirectMiddleware"
SEPARATELY = "--core-renamed-separately"

OLD = "tresorier@lists.crans.org"
NEW = "tresorerie@lists.crans.org"
THIRD = "finances@lists.crans.org"


pytestmark = pytest.mark.usefixtures("silent_core")


def rename(old: str, new: str) -> None:
    call_command("rename_list", old, new, SEPARATELY, stdout=io.StringIO())


def overview_of_new() -> str:
    return reverse("hk_list_overview", args=[NEW])


def old_urls(archives) -> dict[str, str]:
    """A page of each kind of the list, by its name then: path -> path under NEW."""
    email = Email.objects.filter(mailinglist=archives.tresorier).order_by("pk").first()
    thread = email.thread
    pages = {}
    for kind, view, kwargs in (
        ("overview", "hk_list_overview", {}),
        ("latest", "hk_archives_latest", {}),
        ("month", "hk_archives_with_month", {"year": "2024", "month": "9"}),
        ("thread", "hk_thread", {"threadid": thread.thread_id}),
        ("message", "hk_message_index", {"message_id_hash": email.message_id_hash}),
        ("feed", "hk_list_feed", {}),
        ("export", "hk_list_export_mbox", {"filename": "tresorier"}),
    ):
        pages[kind] = tuple(
            reverse(view, kwargs={"mlist_fqdn": name, **kwargs}) for name in (OLD, NEW)
        )
    return pages


def test_every_page_of_the_old_name_redirects_to_the_new_one(archives, client):
    pages = old_urls(archives)
    rename(OLD, NEW)
    for kind, (old, new) in pages.items():
        response = client.get(f"{old}?start=2024-09-01")
        assert response.status_code == 301, kind
        assert response["Location"] == f"{new}?start=2024-09-01", kind
        assert client.get(response["Location"]).status_code == 200, kind
    search = client.get(reverse("hk_search"), {"mlist": OLD, "q": "budget"})
    assert search.status_code == 301
    assert search["Location"] == f"{reverse('hk_search')}?mlist={NEW.replace('@', '%40')}&q=budget"
    # The list-id form of hyperkitty's URLs too.
    by_id = client.get("/archives/list/tresorier.lists.crans.org/")
    assert by_id.status_code == 301
    assert by_id["Location"] == "/archives/list/tresorerie.lists.crans.org/"
    # Other lists, unknown names and POSTs are left alone.
    assert client.get(reverse("hk_list_overview", args=[archives.bureau.name])).status_code == 200
    assert (
        client.get(reverse("hk_list_overview", args=["absent@lists.crans.org"])).status_code == 404
    )
    assert client.post(pages["overview"][0]).status_code in (404, 405)


def test_chains_go_to_the_latest_name_and_renaming_back_takes_the_urls_back(archives, client):
    overview = {name: reverse("hk_list_overview", args=[name]) for name in (OLD, NEW, THIRD)}
    rename(OLD, NEW)
    rename(NEW, THIRD)
    for name in (OLD, NEW):
        response = client.get(overview[name])
        assert (response.status_code, response["Location"]) == (301, overview[THIRD])
    rename(THIRD, OLD)
    assert client.get(overview[OLD]).status_code == 200
    for name in (NEW, THIRD):
        response = client.get(overview[name])
        assert (response.status_code, response["Location"]) == (301, overview[OLD])
        # One hop, no loop.
        assert client.get(response["Location"]).status_code == 200
    assert current_list(OLD) is None


def test_an_old_name_taken_by_a_new_list_stops_redirecting(archives, client):
    rename(OLD, NEW)
    newcomer = MailingList.objects.create(name=OLD, display_name="Tresorier")
    response = client.get(reverse("hk_list_overview", args=[OLD]))
    assert response.status_code == 200
    assert response.context["mlist"] == newcomer


def test_a_private_list_is_redirected_only_for_its_readers(archives, client):
    MailingList.objects.filter(pk=archives.tresorier.pk).update(
        archive_policy=ArchivePolicy.private.value
    )
    rename(OLD, NEW)
    old = reverse("hk_list_overview", args=[OLD])
    assert client.get(old).status_code == 404  # the new name is not given away
    client.force_login(get_user_model().objects.create_superuser("root", "root@crans.org", "x"))
    response = client.get(old)
    assert (response.status_code, response["Location"]) == (
        301,
        reverse("hk_list_overview", args=[NEW]),
    )


def client_with(middleware: list[str], settings) -> Client:
    """A test client whose handler runs ``middleware``."""
    kept = settings.MIDDLEWARE
    settings.MIDDLEWARE = middleware
    client = Client()
    client.handler.load_middleware()
    settings.MIDDLEWARE = kept
    return client


def queries_of(client: Client, path: str, status: int) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == status
    return [query["sql"] for query in captured.captured_queries]


def test_a_name_never_renamed_costs_no_query(archives, settings):
    rename(OLD, NEW)
    assert MIDDLEWARE in settings.MIDDLEWARE
    with_it = client_with(list(settings.MIDDLEWARE), settings)
    without = client_with([name for name in settings.MIDDLEWARE if name != MIDDLEWARE], settings)
    unknown = [
        reverse("hk_list_overview", args=[f"r{number}@lists.crans.org"]) for number in (1, 2)
    ]
    assert with_it.get(unknown[0]).status_code == 404  # the former names are read, once

    queries = {"with": queries_of(with_it, unknown[1], 404), "without": ""}
    queries["without"] = queries_of(without, unknown[1], 404)

    assert len(queries["with"]) == len(queries["without"]), queries
    assert not any("crans_admin_listrename" in sql for sql in queries["with"])
    # A former name still costs what finding its list costs, and is redirected.
    old = reverse("hk_list_overview", args=[OLD])
    assert any("crans_admin_listrename" in sql for sql in queries_of(with_it, old, 301))


def write_settings(tmp_path, settings, cache: dict) -> dict[str, str]:
    """Settings for manage.py in a subprocess: this test's database, index, folders and cache."""
    module = tmp_path / "other_process_settings.py"
    module.write_text(
        "from crans_mailman_web_settings.test import *  # noqa: F403\n"
        f"CACHES = {cache!r}\n"
        f"HAYSTACK_CONNECTIONS = {settings.HAYSTACK_CONNECTIONS!r}\n"
        f"HYPERKITTY_ATTACHMENT_FOLDER = {settings.HYPERKITTY_ATTACHMENT_FOLDER!r}\n"
        f"MAILMAN_REST_API_URL = {settings.MAILMAN_REST_API_URL!r}\n"
    )
    return {
        **{key: value for key, value in os.environ.items() if key != "MAILMAN_WEB_BASE_DIR"},
        "DJANGO_SETTINGS_MODULE": module.stem,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)]),
        "MAILMAN_WEB_LOCAL_DIR": str(tmp_path / "other-process"),
        "MAILMAN_WEB_DB_NAME": connection.settings_dict["NAME"],
    }


# memcached, Redis, the database cache would do the same: one store for every process.
SHARED_CACHE = "django.core.cache.backends.filebased.FileBasedCache"


def test_with_a_shared_cache_a_rename_by_another_process_is_seen_at_once(
    transactional_db, archives, tmp_path, settings, monkeypatch
):
    cache = {"default": {"BACKEND": SHARED_CACHE, "LOCATION": str(tmp_path / "cache")}}
    settings.CACHES = cache
    # Only the rename's invalidation can make this process read the names again.
    monkeypatch.setattr(redirects, "FORMER_NAMES_TIMEOUT", 3600)
    client = Client()
    never = reverse("hk_list_overview", args=["never@lists.crans.org"])
    assert client.get(never).status_code == 404
    assert caches["default"].get(redirects.FORMER_NAMES_VERSION_KEY) is not None

    subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "rename_list", OLD, NEW, SEPARATELY],
        cwd=REPO,
        env=write_settings(tmp_path, settings, cache),
        check=True,
        capture_output=True,
        timeout=600,
    )

    answer = client.get(reverse("hk_list_overview", args=[OLD]))
    assert (answer.status_code, answer["Location"]) == (301, overview_of_new())


def test_with_a_cache_per_process_a_rename_elsewhere_is_seen_within_the_timeout(
    archives, settings, monkeypatch
):
    """Django's default cache (mailman-web sets none): each worker keeps its own copy."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    caches["default"].clear()  # what earlier tests of this process left there
    client = Client()
    old = reverse("hk_list_overview", args=[OLD])
    began = time.monotonic()
    assert (
        client.get(reverse("hk_list_overview", args=["never@lists.crans.org"])).status_code == 404
    )
    read = time.monotonic()  # this worker holds the former names read in between
    # Renamed in another process: its invalidation reaches its own cache, not this one.
    with monkeypatch.context() as elsewhere:
        elsewhere.setattr("crans_admin.rename.journal.forget_former_names", lambda: None)
        rename(OLD, NEW)
    answer = client.get(old)
    if time.monotonic() - began < redirects.FORMER_NAMES_TIMEOUT:
        assert answer.status_code == 404  # looked up before the worker's copy expired
    time.sleep(max(0.0, read + redirects.FORMER_NAMES_TIMEOUT - time.monotonic()) + 0.1)
    answer = client.get(old)
    assert (answer.status_code, answer["Location"]) == (301, overview_of_new())
