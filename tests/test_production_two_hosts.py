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
    LIST_ADDRESS,
    MEMBER,
    Stack,
    archive,
    record_cost,
    reindex,
)

pytestmark = pytest.mark.production

NEW_ADDRESS = "renamed@lists.example.crans"


class TwoHosts:
    """Host A (core archives through it) and host B, on one stack."""

    def __init__(self, stack: Stack, second: UwsgiSite, redis: RedisServer) -> None:
        self.stack = stack
        self.a = stack.site
        self.b = second
        self.redis = redis


@pytest.fixture(scope="module")
def two_hosts(tmp_path_factory, prepared_static, mailman_core_venv) -> Iterator[TwoHosts]:
    folder = tmp_path_factory.mktemp("two-hosts")
    with RedisServer() as redis:
        shared = {
            "MAILMAN_WEB_CACHE_URL": redis.url,
            "MAILMAN_WEB_SEARCH_INDEX_DIR": str(folder / "shared-search-index"),
        }
        with Stack(folder, prepared_static, mailman_core_venv, site_env=shared) as stack:
            second = stack.start_site(folder / "web-b")
            stack.core.create_list_with_member(LIST_ADDRESS, MEMBER.email)
            yield TwoHosts(stack, second, redis)


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
    """Core archives through host A; host B shows the thread and finds it once A indexed it."""
    stack = two_hosts.stack
    began = time.monotonic()
    ids = archive(stack.core, stack.query, LIST_ADDRESS, 3, "twohosts")
    archived = time.monotonic()
    (message_hash,) = stack.query(
        "SELECT message_id_hash FROM hyperkitty_email WHERE message_id = %s", ids[0]
    )[0]
    status, body = two_hosts.b.get(f"/archives/list/{LIST_ADDRESS}/message/{message_hash}/")
    assert status == 200
    assert "twohosts thread 0" in body
    status, body = two_hosts.b.get(f"/archives/list/{LIST_ADDRESS}/")
    assert status == 200
    # Not searchable anywhere until the indexing job runs, on one host (A).
    assert "twohosts thread 0" not in two_hosts.b.get(search_path(LIST_ADDRESS, "twohostsword0"))[1]
    reindex(two_hosts.a)
    indexed = time.monotonic()
    status, body = two_hosts.b.get(search_path(LIST_ADDRESS, "twohostsword0"))
    assert status == 200
    assert "twohosts thread 0" in body, body[-3000:]
    record_cost(
        "two hosts: archived on A, shown and found on B",
        {
            "seconds_to_archive_3_messages": round(archived - began, 2),
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
    archive(stack.core, stack.query, LIST_ADDRESS, 3, "beforerename")
    reindex(two_hosts.a)
    # Hosts B and C have read the former names (none) and hold them.
    for site in (b, c):
        assert fetch(site.base_url, f"/archives/list/{NEW_ADDRESS}/").status == 404
    began = time.monotonic()
    manage(two_hosts.a.env, "rename_list", LIST_ADDRESS, NEW_ADDRESS, "--core-renamed-separately")
    renamed = time.monotonic()
    # At once: no wait for a per-process cache to expire.
    old = fetch(b.base_url, f"/archives/list/{LIST_ADDRESS}/")
    seen = time.monotonic()
    first_on_c = fetch(c.base_url, f"/archives/list/{LIST_ADDRESS}/").status
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
    while fetch(c.base_url, f"/archives/list/{LIST_ADDRESS}/").status != 301:
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
