"""Old URLs of a renamed list answer 301 to the same page under its current name."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from hyperkitty.models import ArchivePolicy, Email, MailingList

from crans_admin.rename.redirects import current_list

OLD = "tresorier@lists.crans.org"
NEW = "tresorerie@lists.crans.org"
THIRD = "finances@lists.crans.org"


pytestmark = pytest.mark.usefixtures("silent_core")


def rename(old: str, new: str) -> None:
    call_command("rename_list", old, new, "--core-renamed-separately", stdout=io.StringIO())


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
