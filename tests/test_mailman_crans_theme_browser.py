"""The Crans look in a real browser: Debian's headless Chromium on a live server.

Each main page, at desktop and mobile widths: the logo is drawn, the navbar
has the Crans colour of the stylesheet's variable, the text on it is
readable, and nothing went wrong (console errors, failed requests, HTTP
errors, requests to another host). Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from email.utils import format_datetime

import pytest
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.urls import reverse
from django.utils import timezone
from hyperkitty.lib.incoming import add_to_list
from hyperkitty.models import Email

from tests.allauth_versions import AUTH_ERROR_STATUS
from tests.fixtures.archives import message
from tests.fixtures.browser import DESKTOP, MOBILE, log_in, screenshot
from tests.test_mailman_crans_theme_static import contrast_ratio
from tests.test_mailman_crans_theme_templates import create_crans_list, point_postorius_at

pytestmark = pytest.mark.browser

SITE_NAME = "Listes Crans"
VIEWPORTS = {"desktop": DESKTOP, "mobile": MOBILE}
# Read in the page: the navbar's colours, the stylesheet's variable, the logo's state.
LOOK = """() => {
    const navbar = document.querySelector("#navbar-main, header.navbar");
    const link = navbar.querySelector("a.nav-link");
    const logo = document.querySelector("img.crans-logo");
    const box = logo.getBoundingClientRect();
    return {
        navbar: getComputedStyle(navbar).backgroundColor,
        link: getComputedStyle(link).color,
        variable: getComputedStyle(document.documentElement)
            .getPropertyValue("--crans-navbar-bg").trim(),
        logoLoaded: logo.complete && logo.naturalWidth > 0,
        logoAlt: logo.alt,
        logoBox: [box.width, box.height],
        siteName: document.querySelector(".crans-site-name").textContent.trim(),
        lang: document.documentElement.lang,
    };
}"""


def rgb_to_hex(rgb: str) -> str:
    red, green, blue = (int(value) for value in re.findall(r"\d+", rgb)[:3])
    return f"#{red:02x}{green:02x}{blue:02x}"


@pytest.fixture
def pages(archives):
    """Site name and the main pages' paths, on real archives."""
    site = Site.objects.get_current()
    site.name = SITE_NAME
    site.save()  # clears the Site cache
    first = Email.objects.get(message_id="m1@crans.org")
    name = archives.tresorier.name
    return {
        "hyperkitty-index": reverse("hk_root"),
        "list-overview": reverse("hk_list_overview", args=[name]),
        "thread": reverse("hk_thread", args=[name, first.thread.thread_id]),
        "login": reverse("account_login"),
        "authentication-error": reverse("socialaccount_login_error"),
    }


def check_look(watched) -> dict:
    look = watched.page.evaluate(LOOK)
    assert look["logoLoaded"], "the logo did not load"
    assert look["logoBox"][0] >= 24 and look["logoBox"][1] >= 24, look
    assert watched.page.locator("img.crans-logo").first.is_visible()
    assert rgb_to_hex(look["navbar"]) == look["variable"] == "#12284c", look
    assert contrast_ratio(rgb_to_hex(look["link"]), rgb_to_hex(look["navbar"])) >= 4.5, look
    assert look["siteName"] == SITE_NAME
    return look


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
def test_main_pages_have_the_crans_look(live_server, browser_page, pages, viewport):
    watched = browser_page(live_server.url, viewport=VIEWPORTS[viewport])
    for page, path in pages.items():
        response = watched.goto(path)
        expected = AUTH_ERROR_STATUS if page == "authentication-error" else 200
        assert response.status == expected, (page, response.status)
        look = check_look(watched)
        assert look["logoAlt"] == "Crans"
        assert watched.page.locator("footer a[href='https://www.crans.org/']").is_visible()
        screenshot(watched.page, f"theme-{page}-{viewport}")
        if expected != 200:  # the page's own status, not a problem
            watched.accept_status(live_server.url + path, expected)
        assert watched.problems() == [], page


def test_login_page_in_french(live_server, browser_page, pages):
    watched = browser_page(live_server.url, language="fr")
    watched.goto(pages["login"] + "?next=/hyperkitty/")
    look = check_look(watched)
    assert look["lang"] == "fr"
    assert look["logoAlt"] == "Crans"
    button = watched.page.locator("a.crans-login-button")
    assert button.is_visible()
    assert button.inner_text().strip() == "Se connecter avec son compte Crans"
    crans_top = button.bounding_box()["y"]
    local_top = watched.page.locator("form.login").bounding_box()["y"]
    assert crans_top < local_top, "the Crans account comes first"
    screenshot(watched.page, "theme-login-fr-desktop")
    assert watched.problems() == []


# The search box's placeholder: its text's width in the box's font, and the room for it.
PLACEHOLDER_FIT = """() => {
    const box = document.querySelector("nav#navbar-main input.search");
    const style = getComputedStyle(box);
    const context = document.createElement("canvas").getContext("2d");
    context.font = style.font;
    return [box.placeholder, context.measureText(box.placeholder).width,
            box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)];
}"""


@pytest.mark.parametrize("language", ["en", "fr"])
def test_search_placeholder_is_not_cut(live_server, browser_page, pages, language):
    """From 768 pixels on (narrower, the navbar folds and hides the box), 800 the tightest."""
    for width in (800, DESKTOP["width"]):
        watched = browser_page(
            live_server.url, viewport={"width": width, "height": 900}, language=language
        )
        for page in ("hyperkitty-index", "list-overview"):
            watched.goto(pages[page])
            text, needed, room = watched.page.evaluate(PLACEHOLDER_FIT)
            assert needed <= room, (language, width, page, text, needed, room)
        assert watched.problems() == []


def test_login_works_without_javascript(live_server, browser_page, pages):
    watched = browser_page(live_server.url, viewport=MOBILE, javascript=False)
    watched.goto(pages["login"])
    check_look(watched)
    assert watched.page.locator("a.crans-login-button").is_visible()
    assert watched.page.locator("form.login input[name='login']").is_visible()
    screenshot(watched.page, "theme-login-nojs-mobile")
    assert watched.problems() == []


def test_profile_page_of_a_member(live_server, browser_page, pages, archives):
    for viewport in sorted(VIEWPORTS):
        watched = browser_page(live_server.url, viewport=VIEWPORTS[viewport])
        log_in(watched, archives.alice)
        watched.goto(reverse("mm_user_profile"))
        check_look(watched)
        assert watched.page.locator("form.user-profile").is_visible()
        screenshot(watched.page, f"theme-profile-{viewport}")
        assert watched.problems() == []


def test_postorius_pages(live_server, browser_page, pages, mailman_core, settings):
    point_postorius_at(mailman_core, settings)
    mailing_list = create_crans_list(mailman_core)
    paths = {
        "postorius-list-index": reverse("list_index"),
        "postorius-list-summary": reverse("list_summary", args=[mailing_list.list_id]),
    }
    for viewport in sorted(VIEWPORTS):
        watched = browser_page(live_server.url, viewport=VIEWPORTS[viewport])
        for page, path in paths.items():
            assert watched.goto(path).status == 200
            check_look(watched)
            assert watched.page.get_by_text("Info Crans").first.is_visible()
            screenshot(watched.page, f"theme-{page}-{viewport}")
        assert watched.problems() == []


# The activity chart's drawing and its bars with messages, as the page shows them.
CHART_BARS = """() => {
    const drawing = document.querySelector("svg.chart-data").getBoundingClientRect();
    const bars = [...document.querySelectorAll("svg.chart-data .bars rect")]
        .filter((bar) => bar.getBBox().height > 0)
        .map((bar) => bar.getBoundingClientRect());
    return {right: drawing.right, bars: bars.map((bar) => [bar.left, bar.right, bar.height])};
}"""


def test_activity_chart_shows_todays_messages(live_server, browser_page, archives):
    """A list whose messages are all of today: its bar is drawn inside the chart's box."""
    name = "causerie@lists.crans.org"
    for number in (201, 202, 203):
        email = message(number, f"Message {number}", "Posté aujourd'hui.")
        email.replace_header("Date", format_datetime(timezone.now()))
        add_to_list(name, email)
    watched = browser_page(live_server.url)
    watched.goto(reverse("hk_list_overview", args=[name]))
    watched.page.wait_for_selector("svg.chart-data .bars rect", state="attached")
    chart = watched.page.evaluate(CHART_BARS)
    screenshot(watched.page, "theme-activity-chart")
    assert len(chart["bars"]) == 1, chart
    left, right, height = chart["bars"][0]
    shown = min(right, chart["right"]) - left  # the box cuts off what is past its edge
    assert height > 0 and shown >= 0.9 * (right - left) > 0, chart
    assert watched.problems() == []


def test_admin_header(live_server, browser_page, pages):
    admin = get_user_model().objects.create_superuser("root", "root@crans.org", "password")
    watched = browser_page(live_server.url)
    log_in(watched, admin)
    watched.goto(reverse("admin:index"))
    header = watched.page.evaluate(
        """() => ({
            background: getComputedStyle(document.querySelector("#header")).backgroundColor,
            logo: document.querySelector("#site-name img.crans-logo").naturalWidth,
            text: document.querySelector("#site-name").textContent.trim(),
        })"""
    )
    assert rgb_to_hex(header["background"]) == "#12284c"
    assert header["logo"] > 0
    assert header["text"] == f"{SITE_NAME} administration"
    assert watched.page.title() == f"Site administration | {SITE_NAME} administration"
    screenshot(watched.page, "theme-admin-desktop")
    assert watched.problems() == []


def test_watched_page_reports_what_would_go_unseen(live_server, browser_page, db):
    """The checks above can fail: a foreign image, a missing file and a script error."""
    watched = browser_page(live_server.url)
    watched.goto(reverse("account_login"))
    watched.forget()
    missing = "/static/mailman_crans_theme/img/missing.png"
    watched.page.set_content(
        f'<img src="https://cdn.example.org/logo.png"><img src="{missing}">'
        '<script>console.error("broken script")</script>'
    )
    watched.page.wait_for_load_state("networkidle")
    problems = "\n".join(watched.problems())
    assert "request to another host: https://cdn.example.org/logo.png" in problems
    assert f"HTTP error: 404 {live_server.url}{missing}" in problems
    assert "console error: broken script" in problems
