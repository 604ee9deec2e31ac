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
"""

from __future__ import annotations

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


def current_list(former_name: str) -> MailingList | None:
    """The list that bore ``former_name`` (posting address or list-id) and bears another now."""
    name = former_name.strip().lower()
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
