"""Issue 21's page points, rendered with Django's test client on PostgreSQL.

French names in the admin, postorius' values shown as words, the language
switch, hyperkitty's titles, counts and ages, the profile's time zone.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from hyperkitty.models import MailingList

FRENCH = {"HTTP_ACCEPT_LANGUAGE": "fr"}


@pytest.fixture
def superuser(db, client):
    user = get_user_model().objects.create_superuser("root", "root@crans.org", "password")
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    "french",
    [
        "Domaines de messagerie",
        "Profils",
        "Tâches échouées",
        "Tâches planifiées",
        "Listes de diffusion",
        "Fils de discussion",
    ],
)
def test_admin_index_names_upstream_models_in_french(client, superuser, french):
    html = client.get(reverse("admin:index"), **FRENCH).content.decode()
    assert f">{french}<" in html


def test_admin_change_page_of_a_list_in_french(client, superuser):
    mailing_list = MailingList.objects.create(name="info@lists.crans.org")
    url = reverse("admin:hyperkitty_mailinglist_change", args=[mailing_list.pk])
    html = client.get(url, **FRENCH).content.decode()
    assert "Modification de liste de diffusion" in html
    assert "mailing list" not in html


def test_latest_threads_title_has_no_leading_dash(client, archives):
    name = archives.tresorier.name
    html = client.get(reverse("hk_archives_latest", args=[name])).content.decode()
    title = re.search(r"<title>\s*(.*?)\s*</title>", html, re.S).group(1)
    assert not title.startswith("-"), title
    assert title.endswith(" - example.com"), title


@pytest.mark.parametrize(("query", "count"), [("Ordre", "1 message"), ("zorglub", "4 messages")])
def test_search_results_count_in_the_singular_for_one(client, archives, query, count):
    html = client.get(reverse("hk_search") + f"?q={query}").content.decode()
    assert re.search(rf">\s*{count}\s*<", html), re.findall(r"\d+ messages?", html)


def test_search_results_in_french(client, archives):
    html = client.get(reverse("hk_search") + "?q=zorglub", **FRENCH).content.decode()
    assert "pour « zorglub »" in html
    assert "de la requête" not in html
    assert re.search(r"il y a \d+", html)


def test_message_ages_say_ago(client, archives):
    html = client.get(reverse("hk_search") + "?q=zorglub").content.decode()
    assert re.search(r"\d+\xa0(year|month|week|day|hour|minute)s?(, \d+\xa0\w+)? ago", html)


def test_language_switch_is_remembered(client, archives):
    """The footer's switch posts to Django's set_language; the cookie keeps French."""
    page = reverse("hk_root")
    html = client.get(page).content.decode()
    action = reverse("set_language")
    assert f'action="{action}"' in html
    assert 'name="language" value="fr"' in html
    response = client.post(action, {"language": "fr", "next": page})
    assert response.status_code == 302 and response["Location"] == page
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="fr">' in html
    assert "Langue :" in html


def test_admin_pages_have_the_language_switch(client, superuser):
    html = client.get(reverse("admin:index"), **FRENCH).content.decode()
    assert f'action="{reverse("set_language")}"' in html
    assert "Langue :" in html
