"""Old URLs of a renamed list answer 301 to the same page under its current name.

Links to a list outlive its name: the ``Archived-At`` and ``List-Archive``
headers of every message delivered, links in other archives and on the wiki.
When hyperkitty or postorius answer 404 to a page of a list (by posting
address or list-id in the URL, or ``?mlist=`` for the search) and the journal
knows that name as a former name of a list, the answer becomes a 301 to the same
page under that list's current name. Redirecting only a 404 means that:

- a chain of renames goes straight to the latest name (the list's row is
  followed by its id, not name by name), and a rename back takes the URLs back;
- there is no loop: the target is a name the list bears now;
- an old name taken later by another list is that list's page, not redirected.

Private lists are redirected only for those who may read them (hyperkitty's
rule), so that the new name of a private list is not given away.

Most 404s name no former name (robots, typos, lists deleted long ago): those
cost no query. Each process holds the journal's former names in memory, with
the version of the journal they were read at; the version is in Django's cache
(a short string: reading it is cheap). The journal forgets its version on each
rename and rollback (:func:`forget_former_names`): every process sharing the
cache (memcached, Redis, the database or file cache) reads the names again at
its next 404. With a cache of each process's own (Django's default
``LocMemCache``, mailman-web's default), a rename made in another process (the
command, another worker) is seen when this process's version expires: within
``FORMER_NAMES_TIMEOUT`` seconds, for one query per process each time.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.cache import caches
from django.db import transaction
from django.http import HttpResponsePermanentRedirect
from hyperkitty.lib.view_helpers import is_mlist_authorized
from hyperkitty.models import MailingList

from ..models import ListRename

# URL keyword arguments that name a list: hyperkitty's (posting address), postorius' and
# hyperkitty's list-id form (list-id or posting address).
LIST_ARGUMENTS = ("mlist_fqdn", "list_id")
# hyperkitty's search page names the list in its query string.
SEARCH_VIEW = "hk_search"
SEARCH_ARGUMENT = "mlist"
REDIRECTED_METHODS = ("GET", "HEAD")
# The version of the journal's former names in the cache, and how long a
# process may keep a version that nobody changed.
CACHE_ALIAS = "default"
FORMER_NAMES_VERSION_KEY = "crans_admin.rename.former_names_version"
FORMER_NAMES_TIMEOUT = 10  # seconds


@dataclass(frozen=True)
class _FormerNames:
    version: str
    names: frozenset[str]


_held = _FormerNames(version="", names=frozenset())


def former_names() -> frozenset[str]:
    """Every posting address and list-id that the journal knows a list bore before a rename."""
    global _held
    cache = caches[CACHE_ALIAS]
    version = cache.get(FORMER_NAMES_VERSION_KEY)
    if version is None:
        # Set before the names are read: a change committed after this reading
        # forgets this version.
        cache.add(FORMER_NAMES_VERSION_KEY, uuid.uuid4().hex, FORMER_NAMES_TIMEOUT)
        version = cache.get(FORMER_NAMES_VERSION_KEY)
    if version is None or version != _held.version:
        rows = ListRename.objects.values_list("old_name", "old_list_id")
        _held = _FormerNames(version or "", frozenset(name for row in rows for name in row))
    return _held.names


def forget_former_names() -> None:
    """Make every process read the former names again (the journal changed).

    Now, for this process; and at the commit, for the processes that read the
    journal before it.
    """
    caches[CACHE_ALIAS].delete(FORMER_NAMES_VERSION_KEY)
    transaction.on_commit(lambda: caches[CACHE_ALIAS].delete(FORMER_NAMES_VERSION_KEY))


def current_list(former_name: str) -> MailingList | None:
    """The list that bore ``former_name`` (posting address or list-id) and bears another now."""
    name = former_name.strip().lower()
    if name not in former_names():
        return None
    rename = (
        ListRename.objects.filter(old_name=name).first()
        or ListRename.objects.filter(old_list_id=name).first()
    )
    if rename is None:
        return None
    mailing_list = MailingList.objects.filter(pk=rename.mailing_list_id).first()
    if mailing_list is None or name in (mailing_list.name, mailing_list.list_id):
        return None
    return mailing_list


def new_location(request, mailing_list: MailingList, name: str, match) -> str | None:
    """The URL of the same page for ``mailing_list``'s current name, or None.

    The name is one segment of the path: replacing it keeps the rest, the prefix
    included (hyperkitty answers under /archives/ and /hyperkitty/, postorius
    under /postorius/ and /mailman3/).
    """
    if match.url_name == SEARCH_VIEW:
        query = request.GET.copy()
        query[SEARCH_ARGUMENT] = mailing_list.name
        return f"{request.path}?{query.urlencode()}"
    if f"/{name}/" not in request.path:
        return None
    current = mailing_list.name if "@" in name else mailing_list.list_id
    path = request.path.replace(f"/{name}/", f"/{current}/", 1)
    query = request.GET.urlencode()
    return f"{path}?{query}" if query else path


def former_name(request, match) -> str | None:
    """The list name that the request's URL gives, if any."""
    if match.url_name == SEARCH_VIEW:
        return request.GET.get(SEARCH_ARGUMENT)
    for argument in LIST_ARGUMENTS:
        if argument in match.kwargs:
            return match.kwargs[argument]
    return None


class OldListNameRedirectMiddleware:
    """Turn the 404 of a page of a renamed list's former name into a 301 to its current name."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if response.status_code != 404 or match is None:
            return response
        if request.method not in REDIRECTED_METHODS:
            return response
        name = former_name(request, match)
        if not name:
            return response
        mailing_list = current_list(name)
        if mailing_list is None or not is_mlist_authorized(request, mailing_list):
            return response
        location = new_location(request, mailing_list, name, match)
        if location is None:
            return response
        return HttpResponsePermanentRedirect(location)
