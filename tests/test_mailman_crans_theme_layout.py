"""Layout of the theme's pages in Debian's headless Chromium, measured on element boxes.

No stray bullet beside the admin's Crans button, the admin's user list fits a
1366-pixel screen, the profile's Votes column on one line.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from hyperkitty.lib.incoming import add_to_list

from tests.fixtures.archives import message
from tests.fixtures.browser import DESKTOP, log_in, screenshot

pytestmark = pytest.mark.browser

# The Crans button's list item on the admin's login page: its marker and boxes.
PROVIDER_ITEM = """() => {
    const item = document.querySelector(".crans-admin-providers li");
    const button = item.querySelector("a").getBoundingClientRect();
    const box = item.getBoundingClientRect();
    return {marker: getComputedStyle(item).listStyleType,
            itemLeft: box.left, buttonLeft: button.left};
}"""


def test_admin_login_has_no_bullet(live_server, browser_page, db):
    watched = browser_page(live_server.url)
    watched.goto(reverse("admin:login"))
    item = watched.page.evaluate(PROVIDER_ITEM)
    screenshot(watched.page, "theme-admin-login-desktop")
    assert item["marker"] == "none", item
    assert item["buttonLeft"] == item["itemLeft"], item
    assert watched.problems() == []


# The admin's user list: the page's width and where its last column ends.
USER_LIST = """() => {
    const cells = [...document.querySelectorAll("#result_list thead th")];
    const last = cells[cells.length - 1];
    const box = document.querySelector("#changelist .results").getBoundingClientRect();
    return {heading: last.textContent.trim(), right: last.getBoundingClientRect().right,
            boxRight: box.right, screen: document.documentElement.clientWidth};
}"""


def test_admin_user_list_fits_the_screen(live_server, browser_page, db):
    """Long addresses and names: the CAS ACCOUNT column stays on a 1366-pixel screen."""
    from allauth.socialaccount.models import SocialAccount

    users = get_user_model().objects
    admin = users.create_superuser("root", "root@crans.org", "password")
    for number in range(3):
        user = users.create_user(
            f"membre-du-crans-{number}-au-nom-long",
            f"prenom.nom-de-famille-{number}@etudiants.example-universite.fr",
            first_name="Jean-Baptiste-Alexandre",
            last_name="De La Fontaine-Montgolfier",
        )
        SocialAccount.objects.create(user=user, provider="crans", uid=f"jbdlfm{number}")
    watched = browser_page(live_server.url, viewport=DESKTOP)
    log_in(watched, admin)
    watched.goto(reverse("admin:auth_user_changelist"))
    table = watched.page.evaluate(USER_LIST)
    screenshot(watched.page, "theme-admin-user-list-desktop")
    assert table["heading"] == "CAS account", table
    assert table["right"] <= min(table["boxRight"], table["screen"]), table
    assert watched.problems() == []


# The profile's last posts: each Votes cell's likes and dislikes, in lines.
VOTES_LINES = """() => [...document.querySelectorAll("td > span > .fa-thumbs-o-up")]
    .map((icon) => icon.parentElement.getClientRects().length)"""


def test_profile_votes_stay_on_one_line(live_server, browser_page, archives):
    """Long subjects and list names take the table's width: the votes keep theirs."""
    from allauth.account.models import EmailAddress

    bob = archives.bob
    subject = "Compte rendu de l'assemblée générale extraordinaire du Crans et de ses suites"
    add_to_list(archives.tresorier.name, message(20, subject, "Le compte rendu.", sender=bob.email))
    EmailAddress.objects.create(user=bob, email=bob.email, verified=True, primary=True)
    watched = browser_page(live_server.url, viewport=DESKTOP)
    log_in(watched, bob)
    watched.goto(reverse("hk_user_profile"))
    lines = watched.page.evaluate(VOTES_LINES)
    screenshot(watched.page, "theme-profile-votes-desktop")
    assert lines and set(lines) == {1}, lines
    assert watched.problems() == []
