"""Two web hosts on one PostgreSQL: the bundle's two-host settings (docs/production.md).

Two uwsgi instances with Debian's options, each with its own folder (static
files, logs), share the database, a Redis cache (``MAILMAN_WEB_CACHE_URL``)
and the search index's folder (``MAILMAN_WEB_SEARCH_INDEX_DIR``); Mailman
core archives into host A. What one host does, the other shows at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from crans_admin.rename.redirects import FORMER_NAMES_TIMEOUT
from devstack.redis import RedisServer
from devstack.uwsgi import UwsgiSite, manage
from tests.fixtures.background_load import fetch
from tests.fixtures.production import (
    Stack,
    archive_through_api,
    at_once,
    messages,
    record_cost,
    reindex,
)

pytestmark = pytest.mark.production

TWO_HOSTS_LIST = "twohosts@hosts.example.crans"
NEW_ADDRESS = "renamed@hosts.example.crans"


class TwoHosts:
    """Hosts A and B on the session's stack, sharing a Redis cache and the index's folder."""

    def __init__(self, stack: Stack, a: UwsgiSite, b: UwsgiSite, redis: RedisServer) -> None:
        self.stack = stack
        self.a = a
        self.b = b
        self.redis = redis

    def archive(self, count: int, tag: str) -> list[str]:
        """Archive ``count`` messages through host A's archiver API; their Message-IDs."""
        posted = list(messages(TWO_HOSTS_LIST, count, tag))
        for message in posted:
            archive_through_api(self.a, TWO_HOSTS_LIST, message)
        return [message["Message-ID"].strip("<>") for message in posted]


@pytest.fixture(scope="module")
def two_hosts(stack, tmp_path_factory) -> Iterator[TwoHosts]:
    folder = tmp_path_factory.mktemp("two-hosts")
    with RedisServer() as redis:
        shared = {
            "MAILMAN_WEB_CACHE_URL": redis.url,
            "MAILMAN_WEB_SEARCH_INDEX_DIR": str(folder / "shared-search-index"),
        }
        sites = []
        try:
            for name in ("a", "b"):
                sites.append(stack.start_site(folder / f"web-{name}", env=shared))
            yield TwoHosts(stack, *sites, redis)
        finally:
            at_once(*(site.stop for site in sites))


def search_path(list_address: str, word: str) -> str:
    return f"/archives/search?mlist={quote(list_address)}&q={word}"


def test_both_hosts_use_the_shared_cache_and_index(two_hosts):
    for site in (two_hosts.a, two_hosts.b):
        shown = manage(site.env, "shell", "-c", SHOW_SETTINGS)
        assert f"RedisCache {two_hosts.redis.url}" in shown
        assert "shared-search-index" in shown


SHOW_SETTINGS = (
    "from django.conf import settings; c = settings.CACHES['default']; "
    "print(c['BACKEND'].rsplit('.', 1)[1], c['LOCATION']); "
    "print(settings.HAYSTACK_CONNECTIONS['default']['PATH'])"
)


def test_a_message_archived_through_one_host_is_shown_and_found_by_the_other(two_hosts):
    """Archived through host A's API; host B shows the thread, finds it once A indexed it."""
    stack = two_hosts.stack
    began = time.monotonic()
    ids = two_hosts.archive(3, "twohosts")
    archived = time.monotonic()
    (message_hash,) = stack.query(
        "SELECT message_id_hash FROM hyperkitty_email WHERE message_id = %s", ids[0]
    )[0]
    status, body = two_hosts.b.get(f"/archives/list/{TWO_HOSTS_LIST}/message/{message_hash}/")
    assert status == 200
    assert "twohosts thread 0" in body
    status, body = two_hosts.b.get(f"/archives/list/{TWO_HOSTS_LIST}/")
    assert status == 200
    # Not searchable anywhere until the indexing job runs, on one host (A).
    search = search_path(TWO_HOSTS_LIST, "twohostsword0")
    assert "twohosts thread 0" not in two_hosts.b.get(search)[1]
    reindex(two_hosts.a)
    indexed = time.monotonic()
    status, body = two_hosts.b.get(search)
    assert status == 200
    assert "twohosts thread 0" in body, body[-3000:]
    record_cost(
        "two hosts: archived on A, shown and found on B",
        {
            "seconds_to_archive_3_messages_through_the_api": round(archived - began, 2),
            "seconds_to_index_on_a": round(indexed - archived, 2),
        },
    )


def test_a_rename_on_one_host_is_seen_by_the_other_at_once(two_hosts, tmp_path):
    """rename_list run on host A: host B redirects the old name and searches under the new.

    Host C has the default settings (a cache per process, its own index): it
    redirects only once its held former names expire, and finds nothing.
    """
    stack = two_hosts.stack
    b = two_hosts.b
    c = stack.start_site(
        tmp_path / "web-c", env={"MAILMAN_WEB_CACHE_URL": "", "MAILMAN_WEB_SEARCH_INDEX_DIR": ""}
    )
    two_hosts.archive(3, "beforerename")
    reindex(two_hosts.a)
    # Hosts B and C have read the former names (none) and hold them.
    for site in (b, c):
        assert fetch(site.base_url, f"/archives/list/{NEW_ADDRESS}/").status == 404
    began = time.monotonic()
    manage(two_hosts.a.env, "rename_list", TWO_HOSTS_LIST, NEW_ADDRESS, "--core-renamed-separately")
    renamed = time.monotonic()
    # At once: no wait for a per-process cache to expire.
    old = fetch(b.base_url, f"/archives/list/{TWO_HOSTS_LIST}/")
    seen = time.monotonic()
    first_on_c = fetch(c.base_url, f"/archives/list/{TWO_HOSTS_LIST}/").status
    assert old.status == 301
    status, body = b.get(f"/archives/list/{NEW_ADDRESS}/")
    assert status == 200
    status, body = b.get(search_path(NEW_ADDRESS, "beforerenameword0"))
    assert status == 200
    assert "beforerename thread 0" in body, body[-3000:]
    # Host C: the list under its new name (the database is shared), but no
    # search result (its own index), and the old name redirected once the
    # former names it holds expire (FORMER_NAMES_TIMEOUT).
    assert c.get(f"/archives/list/{NEW_ADDRESS}/")[0] == 200
    assert "beforerename thread 0" not in c.get(search_path(NEW_ADDRESS, "beforerenameword0"))[1]
    while fetch(c.base_url, f"/archives/list/{TWO_HOSTS_LIST}/").status != 301:
        assert time.monotonic() - renamed < FORMER_NAMES_TIMEOUT + 5
        time.sleep(0.2)
    c_redirects = time.monotonic()
    record_cost(
        "two hosts: rename on A, seen on B",
        {
            "seconds_rename_list_on_a": round(renamed - began, 2),
            "seconds_until_b_redirects_old_name": round(seen - renamed, 3),
            "default_settings_host_first_answer_to_old_name": first_on_c,
            "seconds_until_default_settings_host_redirects": round(c_redirects - renamed, 2),
            "default_settings_host_finds_renamed_list_in_search": False,
        },
    )
