"""The theme's templates: upstream pages keep everything they render and get the Crans look.

Each page is requested twice through Django's test client, on real data: with
the theme, and with the theme removed from INSTALLED_APPS (upstream's
templates). The themed page must hold every link, form, field and element id
of upstream's, the same main content where the theme does not change it, and
the Crans branding.
"""

from __future__ import annotations

import inspect
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.sites.models import Site
from django.template import engines
from django.test import RequestFactory, override_settings
from django.urls import include, path, reverse
from django.utils import translation
from hyperkitty.models import Email

from tests.allauth_versions import AUTH_ERROR_STATUS

THEME = "mailman_crans_theme"
THEME_TEMPLATES = Path(__file__).resolve().parent.parent / THEME / "templates"
SITE_NAME = "Listes du Crans (essai)"
CRANS_URL = "https://www.crans.org/"
WIKI_URL = "https://wiki.crans.org/CransTechnique/ServicesMineurs/MailMan3/Utilisation"
HYPERKITTY_CREDITS = 'href="http://hyperkitty.readthedocs.org">HyperKitty</a>'
POSTORIUS_CREDITS = 'href="https://postorius.readthedocs.org"'


class Structure(HTMLParser):
    """What a page offers: link targets, forms, named fields, element ids, scripts, stylesheets."""

    def __init__(self, html: str):
        super().__init__()
        self.items: set[tuple[str, ...]] = set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href") not in (None, "#"):
            self.items.add(("link", attributes["href"].partition("?")[0]))
        if tag == "form":
            self.items.add(
                ("form", (attributes.get("method") or "get").lower(), attributes.get("action", ""))
            )
        if tag in ("input", "select", "textarea", "button") and attributes.get("name"):
            self.items.add(("field", attributes["name"]))
        if attributes.get("id"):
            self.items.add(("id", attributes["id"]))
        if tag == "script" and attributes.get("src"):
            self.items.add(("script", attributes["src"]))
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.items.add(("stylesheet", attributes["href"]))


def main_content(html: str) -> str:
    """The page's main container (between role="main" and the footer), CSRF tokens blanked."""
    start = html.index('role="main"')
    content = html[start : html.index("<footer", start)]
    return re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', content
    )


def upstream_settings():
    """Settings without the theme: upstream's templates, static files and catalogues."""
    return override_settings(
        INSTALLED_APPS=[app for app in settings.INSTALLED_APPS if app != THEME]
    )


def get_both(client, url: str, status: int = 200) -> tuple[str, str]:
    """The page at ``url`` themed, then upstream's; both must answer ``status``."""
    themed = client.get(url)
    assert themed.status_code == status, (url, themed.status_code)
    with upstream_settings():
        upstream = client.get(url)
    assert upstream.status_code == status, (url, upstream.status_code)
    return themed.content.decode(), upstream.content.decode()


def assert_keeps_upstream(themed: str, upstream: str) -> None:
    missing = Structure(upstream).items - Structure(themed).items
    assert not missing, f"the themed page lost upstream's {sorted(missing)}"


def assert_crans_look(html: str, credits: str) -> None:
    assert f'<img class="crans-logo" src="/static/{THEME}/img/crans-logo.svg" alt="Crans"' in html
    assert f'<span class="crans-site-name">{SITE_NAME}</span>' in html
    assert f'href="/static/{THEME}/img/favicon.svg"' in html
    assert f'href="/static/{THEME}/css/crans.css"' in html
    assert "img/favicon.ico" not in html  # upstream's favicon is replaced
    footer = html[html.index("<footer") :]
    assert f'href="{CRANS_URL}"' in footer
    assert f'href="{WIKI_URL}"' in footer
    assert credits in footer


@pytest.fixture
def site_name(db):
    """The current Site under a name of its own: the pages must show it, not a fixed one."""
    Site.objects.filter(pk=settings.SITE_ID).update(name=SITE_NAME)
    Site.objects.clear_cache()
    return SITE_NAME


@pytest.fixture
def member(db, client):
    user = get_user_model().objects.create_user("membre", "membre@crans.org", "membre-password")
    client.force_login(user)
    return user


# Upstream pages whose title drops their layout's (and so the Site's name): the
# theme's page extends upstream's and adds the Site's name after its title.
TITLED = {
    "account/email.html",
    "socialaccount/login.html",
    "postorius/user/manage.html",
    "postorius/user/confirm_delete.html",
    "postorius/lists/template_list.html",
    "postorius/lists/template_add.html",
    "postorius/lists/template_update.html",
    "postorius/lists/template_delete.html",
    "postorius/domain/template_index.html",
    "postorius/domain/template_add.html",
    "postorius/domain/template_delete.html",
}
# What the theme overrides (as little as it can), and its own includes and error pages.
OVERRIDDEN = {
    "hyperkitty/base.html",
    "hyperkitty/navbar-brand.html",
    "postorius/base.html",
    "account/login.html",
    "socialaccount/snippets/provider_list.html",
    "allauth/layouts/base.html",
    "allauth/elements/button.html",
    "admin/base_site.html",
    "admin/login.html",
    "account/base.html",
    "hyperkitty/fragments/overview_threads.html",
    "hyperkitty/threads/summary_thread_large.html",
    "hyperkitty/thread_list.html",
    "hyperkitty/search_results.html",
    "hyperkitty/user_posts.html",
    "hyperkitty/messages/summary_message.html",
    "postorius/user/subscriptions.html",
    "postorius/lists/summary.html",
    "django_mailman3/profile/profile.html",
    "hyperkitty/user_profile/profile.html",
    "hyperkitty/user_profile/favorites.html",
    "hyperkitty/user_profile/last_views.html",
    "hyperkitty/user_public_profile.html",
    *TITLED,
}
OWN = {
    "mailman_crans_theme/favicon.html",
    "mailman_crans_theme/logo.html",
    "mailman_crans_theme/footer_links.html",
    "mailman_crans_theme/login_fields.html",
    "mailman_crans_theme/error_page.html",
    "mailman_crans_theme/language_switch.html",
    "404.html",
    "403.html",
    "500.html",
}


def test_theme_templates_are_the_intended_overrides_and_compile():
    names = {str(path.relative_to(THEME_TEMPLATES)) for path in THEME_TEMPLATES.rglob("*.html")}
    assert names == OVERRIDDEN | OWN
    engine = engines["django"]
    for name in names:
        engine.get_template(name)
    with upstream_settings():
        for name in OVERRIDDEN:
            engines["django"].get_template(name)  # each overrides an existing template


# Copied (or, for the login page, extended and rewritten) templates: every line of
# the installed upstream template is in the theme's, except these (see the comment
# at the top of each).
REPLACED_LINES = {
    ("hyperkitty", "hyperkitty/base.html"): {
        "<html>",
        '<meta name="dc.language" content="en" />',
        '<link rel="shortcut icon" href="{% static \'hyperkitty/img/favicon.ico\' %}" />',
        '<footer class="footer">',
        '<p class="text-muted">',
        "<title>{% block head_title %}{{ site_name }}{% endblock %}</title>",
        # {% hyperkitty_stylesheet %}: Debian's hyperkitty links a precompiled CSS.
        '<link rel="stylesheet" type="text/x-scss" media="all" '
        "href=\"{% static 'hyperkitty/sass/hyperkitty.scss' %}\" />",
    },
    ("hyperkitty", "hyperkitty/fragments/overview_threads.html"): {
        '{{ thread.date_active|date:"D M j, g:i a" }}',
    },
    ("hyperkitty", "hyperkitty/threads/summary_thread_large.html"): {
        "by {{ thread.starting_email.sender_name|default:thread.starting_email.sender.address"
        "|escapeemail }}",
        '<!-- {% trans "participants" %} -->',
        '<!-- {% trans "comments" %} -->',
    },
    ("hyperkitty", "hyperkitty/search_results.html"): {
        "<small>{% trans 'for query' %} \"{{ query }}\"</small></h1>",
        '{{ emails.paginator.count }} {% trans "messages" %}',
    },
    ("hyperkitty", "hyperkitty/user_posts.html"): {
        '{{ emails.paginator.count }} {% trans "messages" %}',
    },
    ("hyperkitty", "hyperkitty/messages/summary_message.html"): {
        "{{ email.date|timesince }}",
    },
    ("hyperkitty", "hyperkitty/user_profile/profile.html"): {
        "<td>{{ thread.date_active|timesince }}</td>",
    },
    ("hyperkitty", "hyperkitty/user_profile/favorites.html"): {
        "<td>{{ fav.thread.date_active|timesince }}</td>",
        '{% trans "Last activity:" %} {{ fav.thread.date_active|timesince }}',
    },
    ("hyperkitty", "hyperkitty/user_profile/last_views.html"): {
        "<td>{{ lv.thread.date_active|timesince }}</td>",
        '{% trans "Last activity:" %} {{ lv.thread.date_active|timesince }}',
    },
    ("hyperkitty", "hyperkitty/user_public_profile.html"): {
        '<td>{{ creation|date:"l, j F Y H:i:s" }} ({{ creation|timesince }})</td>',
    },
    ("postorius", "postorius/base.html"): {
        '<html lang="en">',
        '<link rel="shortcut icon" href="{% static \'postorius/img/favicon.ico\' %}">',
        "<span><img src=\"{% static 'postorius/img/mailman_logo_small_trans.png' %}\" "
        "alt=\"{% trans 'Mailman logo' %}\"/> Postorius</span>",
        '<footer class="footer">',
        '<p class="text-center">',
        # The Archives link shows when the archives' URLs exist.
        '<li class="nav-item"><a href="{% url \'hk_root\' %}" class="nav-link">',
    },
    ("postorius", "postorius/user/subscriptions.html"): {
        "<td>{{ subscription.preferences.delivery_mode }}</td>",
        "<td>{{ subscription.role }}</td>",
    },
    ("postorius", "postorius/lists/summary.html"): {
        "<td>{{ subscription.delivery_status }}</td>",
        "<td>{{ subscription.delivery_mode }}</td>",
    },
    ("django_mailman3", "django_mailman3/profile/profile.html"): {
        "{% bootstrap_form_horizontal form 3 9 fold_class='md' %}",
    },
    ("django_mailman3", "account/login.html"): {
        # Inherited: the theme's login page extends upstream's.
        '{% extends "account/base.html" %}',
        '{% block head_title %}{% trans "Sign In" %}{% endblock %}',
        # Replaced by the two headings.
        "<p>{% blocktrans with site.name as site_name %}Please sign in with one",
        'of your existing third party accounts. Or, <a href="{{ signup_url }}">sign up</a>',
        "for a {{ site_name }} account and sign in below:{% endblocktrans %}</p>",
        "{% else %}",
        # Replaced: the local form takes a username or an address, and says so;
        # allauth's "Forgot your password?" link under the password is the one kept.
        "<p>{% blocktrans with site.name as site_name %}If you have a {{ site_name }}",
        "account that you haven't yet linked to any third party account, you must log",
        "in with your account's email address and password and once logged in, you can",
        "link your third party accounts via the Account Connections tab on your user",
        "profile page.{% endblocktrans %}</p>",
        "{% bootstrap_form_horizontal form 2 4 %}",
        "&nbsp;",
        '<a href="{% url \'account_reset_password\' %}">{% trans "Forgot Password?" %}</a>',
    },
    ("django_mailman3", "socialaccount/snippets/provider_list.html"): set(),
    ("allauth", "allauth/elements/button.html"): set(),
}


def as_static_tag(line: str) -> str:
    """A line naming a static file with {% get_static_prefix %}, as upstream does ({% static %})."""
    return re.sub(r"\{% get_static_prefix %\}([^\"' ]+)", r"{% static '\1' %}", line)


@pytest.mark.parametrize(("app", "name"), sorted(REPLACED_LINES))
def test_copied_template_keeps_every_other_upstream_line(app, name):
    upstream_file = Path(__import__(app).__file__).parent / "templates" / name
    upstream = {line.strip() for line in upstream_file.read_text().splitlines()}
    copy = {
        as_static_tag(line.strip()) for line in (THEME_TEMPLATES / name).read_text().splitlines()
    }
    assert upstream - copy == REPLACED_LINES[(app, name)]


def hyperkitty_pages(archives) -> dict[str, str]:
    tresorier = archives.tresorier.name
    first = Email.objects.get(message_id="m1@crans.org")
    return {
        "index": reverse("hk_root"),
        "list overview": reverse("hk_list_overview", args=[tresorier]),
        "thread": reverse(
            "hk_thread", kwargs={"mlist_fqdn": tresorier, "threadid": first.thread.thread_id}
        ),
        "message": reverse(
            "hk_message_index",
            kwargs={"mlist_fqdn": tresorier, "message_id_hash": first.message_id_hash},
        ),
        "search": reverse("hk_search") + "?q=zorglub",
    }


@pytest.mark.parametrize("page", ["index", "list overview", "thread", "message", "search"])
def test_hyperkitty_page_keeps_upstream_content_with_crans_look(client, archives, site_name, page):
    url = hyperkitty_pages(archives)[page]
    themed, upstream = get_both(client, url)
    assert_keeps_upstream(themed, upstream)
    if page != "search":  # its count and query are worded (test_mailman_crans_theme_pages.py)
        assert main_content(themed) == main_content(upstream)
    assert_crans_look(themed, HYPERKITTY_CREDITS)
    assert "Tresorier" in main_content(themed) or "Budget 2024" in main_content(themed)


def test_hyperkitty_search_finds_the_archived_emails(client, archives, site_name):
    html = client.get(hyperkitty_pages(archives)["search"]).content.decode()
    assert "Budget 2024" in main_content(html)
    assert "Factures" in main_content(html)


def test_profile_page_keeps_upstream_content_with_crans_look(client, member, site_name):
    themed, upstream = get_both(client, reverse("mm_user_profile"))
    assert_keeps_upstream(themed, upstream)
    # The one change: the time zone the member has not chosen shows as the site's.
    site_zone = f'<option value="{settings.TIME_ZONE}">'
    assert main_content(themed) == main_content(upstream).replace(
        site_zone, site_zone.replace(">", " selected>")
    )
    assert_crans_look(themed, HYPERKITTY_CREDITS)
    assert 'action="/accounts/profile/"' in themed or "user-profile" in themed


def test_signup_page_keeps_upstream_content_with_crans_look(client, site_name):
    themed, upstream = get_both(client, reverse("account_signup"))
    assert_keeps_upstream(themed, upstream)
    assert_crans_look(themed, HYPERKITTY_CREDITS)
    assert 'id="signup_form"' in themed


def test_login_page_keeps_every_upstream_link_and_field(client, site_name):
    themed, upstream = get_both(client, reverse("account_login") + "?next=/hyperkitty/")
    assert_keeps_upstream(themed, upstream)
    assert_crans_look(themed, HYPERKITTY_CREDITS)
    for field in ("login", "password", "remember", "next"):
        assert ("field", field) in Structure(themed).items


def crans_login_link(html: str) -> str:
    """Where the page's Crans login button leads: the provider's login view."""
    button = re.search(r'<a title="[^"]*" class="[^"]*crans-login-button"\s+href="([^"]+)"', html)
    assert button, "no Crans login button"
    assert button.group(1).startswith("/accounts/crans/login/?")
    return button.group(1)


def test_login_page_offers_the_crans_account_first(client, site_name):
    html = client.get(reverse("account_login") + "?next=/hyperkitty/").content.decode()
    link = crans_login_link(html)
    assert "process=login" in link
    assert "next=%2Fhyperkitty%2F" in link
    assert "Log in with your Crans account" in html
    assert 'src="/static/django-mailman3/img/login/crans.png"' in html
    assert html.index("crans-login-button") < html.index('<form class="login')
    assert "Log in with a local account" in html


def test_login_page_in_french(client, site_name):
    html = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr">' in html
    assert "Se connecter avec son compte Crans" in html
    assert "Se connecter avec un compte local" in html
    assert_crans_look(html, "Fonctionne avec")
    footer = html[html.index("<footer") :]
    assert f"{SITE_NAME} est un service du Crans" in footer
    assert "Site du Crans" in footer
    assert "Aide sur les listes de diffusion (wiki du Crans)" in footer


# allauth 65 pages whose own layout is bare HTML: in the site's layout now.
# URL name: (heading, HTTP status).
ALLAUTH_PAGES = {
    "socialaccount_login_error": ("Third-Party Login Failure", AUTH_ERROR_STATUS),
    "socialaccount_login_cancelled": ("Login Cancelled", 200),
    "account_email_verification_sent": ("Verify Your Email Address", 200),
    "account_reset_password_done": ("Password Reset", 200),
}


@pytest.mark.parametrize("url_name", sorted(ALLAUTH_PAGES))
def test_allauth_page_is_in_the_site_layout(client, site_name, url_name):
    heading, status = ALLAUTH_PAGES[url_name]
    themed, upstream = get_both(client, reverse(url_name), status)
    assert f"<h1>{heading}</h1>" in upstream.replace("\n", "").replace("  ", "")
    assert 'role="main"' not in upstream  # allauth's bare layout
    assert heading in main_content(themed)
    assert_crans_look(themed, HYPERKITTY_CREDITS)
    assert 'id="navbar-main"' in themed


def test_social_signup_page_is_in_the_site_layout(client, site_name):
    """The form a new Crans member completes after the CAS login, when one is needed."""
    provider = get_adapter().get_provider(RequestFactory().get("/"), "crans")
    # django-allauth 65.0.2's SocialLogin takes no provider (it finds it from the account).
    with_provider = "provider" in inspect.signature(SocialLogin).parameters
    sociallogin = SocialLogin(
        **({"provider": provider} if with_provider else {}),
        user=get_user_model()(username="jdupont", email="jdupont@crans.org"),
        account=SocialAccount(provider=provider.id, uid="jdupont"),
    )
    session = client.session
    session["socialaccount_sociallogin"] = sociallogin.serialize()
    session.save()
    themed, upstream = get_both(client, reverse("socialaccount_signup"))
    assert_keeps_upstream(themed, upstream)
    assert 'id="signup_form"' in main_content(themed)
    assert "Crans account to login to" in main_content(themed)
    assert_crans_look(themed, HYPERKITTY_CREDITS)


def test_allauth_buttons_get_bootstrap_classes(client, member, site_name):
    """allauth's own pages (here: confirm one's password) draw their buttons as elements."""
    html = client.get(reverse("account_reauthenticate")).content.decode()
    assert re.search(r'<button\s+class="btn btn-primary"\s+type="submit"', main_content(html))
    assert_crans_look(html, HYPERKITTY_CREDITS)


def test_postorius_error_page_without_mailman_core(client, site_name, settings):
    """Postorius says that core is unreachable, in the Crans look."""
    settings.MAILMAN_REST_API_URL = "http://127.0.0.1:9"
    response = client.get(reverse("list_index"))
    assert response.status_code == 503
    html = response.content.decode()
    assert "Mailman REST API not available" in html
    assert_crans_look(html, POSTORIUS_CREDITS)
    assert "mailman_logo_small_trans.png" not in html


def test_admin_header_shows_the_site_name_and_logo(client, site_name):
    admin = get_user_model().objects.create_superuser("root", "root@crans.org", "root-password")
    client.force_login(admin)
    html = client.get(reverse("admin:index")).content.decode()
    header = html[html.index('<h1 id="site-name">') : html.index("</h1>")]
    assert f"/static/{THEME}/img/crans-logo.svg" in header
    assert f"{SITE_NAME} administration" in header
    assert f"<title>Site administration | {SITE_NAME} administration</title>" in html
    assert f'href="/static/{THEME}/css/crans-admin.css"' in html
    french = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert f"Administration de {SITE_NAME}" in french


def point_postorius_at(core, settings) -> None:
    settings.MAILMAN_REST_API_URL = core.rest_url
    settings.MAILMAN_REST_API_USER = core.admin_user
    settings.MAILMAN_REST_API_PASS = core.admin_pass


def create_crans_list(core):
    """The advertised list info@lists.crans.org in Mailman core."""
    mailing_list = core.client().create_domain("lists.crans.org").create_list("info")
    mailing_list.settings["display_name"] = "Info Crans"
    mailing_list.settings["description"] = "Les annonces du Crans"
    mailing_list.settings["advertised"] = True
    mailing_list.settings.save()
    return mailing_list


@pytest.fixture
def crans_list(mailman_core, settings, site_name):
    """A list in a real Mailman core, postorius' peer."""
    point_postorius_at(mailman_core, settings)
    return create_crans_list(mailman_core)


def test_postorius_pages_keep_upstream_content_with_crans_look(client, crans_list):
    """Postorius' list index and list summary, which read everything from core."""
    for url in (reverse("list_index"), reverse("list_summary", args=[crans_list.list_id])):
        themed, upstream = get_both(client, url)
        assert_keeps_upstream(themed, upstream)
        assert main_content(themed) == main_content(upstream)
        assert "Info Crans" in main_content(themed)
        assert_crans_look(themed, POSTORIUS_CREDITS)
        assert "mailman_logo_small_trans.png" not in themed


@pytest.fixture
def subscriber(client, crans_list):
    """A member subscribed to the list with core's defaults (no delivery preference of theirs)."""
    from tests.fixtures.members import crans_member

    user = crans_member("abonne", "abonne@crans.org")
    crans_list.subscribe(
        "abonne@crans.org", pre_verified=True, pre_confirmed=True, pre_approved=True
    )
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    ("language", "words", "raw"),
    [
        ("en", ["<td>Default</td>", "<td>member</td>"], ["<td>None</td>"]),
        ("fr", ["<td>Par défaut</td>", "<td>abonné</td>"], ["<td>None</td>", "<td>member</td>"]),
    ],
)
def test_subscriptions_page_says_delivery_mode_and_role_in_words(
    client, subscriber, language, words, raw
):
    html = client.get(reverse("ps_user_profile"), HTTP_ACCEPT_LANGUAGE=language)
    table = main_content(html.content.decode())
    assert "abonne@crans.org" in table
    for word in words:
        assert word in table
    for value in raw:
        assert value not in table


@pytest.mark.parametrize(("language", "default"), [("en", "Default"), ("fr", "Par défaut")])
def test_list_summary_says_default_delivery_in_words(
    client, subscriber, crans_list, language, default
):
    html = client.get(
        reverse("list_summary", args=[crans_list.list_id]), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    row = main_content(html).split("abonne@crans.org", 1)[1].split("</tr>", 1)[0]
    assert row.count(f"<td>{default}</td>") == 2  # delivery status and mode
    assert "None" not in row


def test_admin_error_message_looks_like_an_error(rf, site_name):
    """mailman-web tags errors "danger"; the admin's stylesheet styles "error"."""
    from django.contrib import admin, messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    request = rf.get(reverse("admin:index"))
    request.user = get_user_model().objects.create_superuser("root", "root@crans.org", "pw")
    request.session = {}
    request._messages = FallbackStorage(request)
    messages.error(request, "The last active superuser cannot be removed.")
    messages.success(request, "Saved.")
    html = admin.site.index(request).render().content.decode()
    assert '<li class="danger error">The last active superuser cannot be removed.</li>' in html
    assert '<li class="success">Saved.</li>' in html


def test_admin_login_offers_the_crans_account(client, site_name):
    html = client.get(reverse("admin:login") + "?next=/admin/").content.decode()
    assert "next=%2Fadmin%2F" in crans_login_link(html)
    assert html.index("crans-login-button") < html.index('id="login-form"')
    assert 'name="username"' in html  # the admin's own form is still there


def title(html: str) -> str:
    return " ".join(re.search(r"<title>(.*?)</title>", html, re.S).group(1).split())


@pytest.mark.parametrize(
    ("url_name", "page_title"),
    [
        ("account_login", "Sign In"),
        ("account_signup", "Signup"),
        ("account_reset_password", "Password Reset"),
        ("account_reset_password_done", "Password Reset"),
        ("socialaccount_login_cancelled", "Login Cancelled"),
        ("hk_root", "Available lists"),
    ],
)
def test_page_title_ends_with_the_site_name(client, site_name, url_name, page_title):
    html = client.get(reverse(url_name)).content.decode()
    assert title(html) == f"{page_title} - {SITE_NAME}"


def test_account_page_title_ends_with_the_site_name(client, member, site_name):
    html = client.get(reverse("account_email")).content.decode()
    assert title(html) == f"Account - {SITE_NAME}"
    html = client.get(reverse("mm_user_profile")).content.decode()
    assert title(html) == f"User Profile - {SITE_NAME}"


def test_login_page_has_one_password_reset_link_and_names_both_logins(client, site_name):
    html = client.get(reverse("account_login")).content.decode()
    assert html.count(f'href="{reverse("account_reset_password")}"') == 1
    start = html.index('<form class="login')
    form = html[start : html.index("</form>", start)]
    assert re.search(r'<label[^>]*for="id_login">\s*Username or e-mail address\s*</label>', form)
    assert "log in with its username or e-mail address" in " ".join(html.split())
    assert "email address and password" not in html
    french = client.get(reverse("account_login"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Nom d'utilisateur ou adresse e-mail" in french
    assert "son nom d'utilisateur ou son adresse e-mail" in french


def time_zone_selected(html: str) -> list[str]:
    select = html[html.index('name="timezone"') :]
    select = select[: select.index("</select>")]
    return re.findall(r'<option value="([^"]*)"[^>]*selected', select)


def test_profile_time_zone_defaults_to_the_site_one(client, member, settings):
    settings.TIME_ZONE = "Europe/Paris"
    url = reverse("mm_user_profile")
    assert time_zone_selected(client.get(url).content.decode()) == ["Europe/Paris"]
    # Saving the form for the name stores the site's zone, not the list's first one.
    response = client.post(
        url, {"username": "membre", "first_name": "Marie", "timezone": "Europe/Paris"}
    )
    assert response.status_code == 302
    member.mailman_profile.refresh_from_db()
    assert member.mailman_profile.timezone == "Europe/Paris"
    # A zone the member chose stays theirs.
    member.mailman_profile.timezone = "America/Cayenne"
    member.mailman_profile.save()
    assert time_zone_selected(client.get(url).content.decode()) == ["America/Cayenne"]


# An age in a table cell: "3 days", the last word before the cell's end.
AGE_CELL = re.compile(r"<td>\s*(\d+\xa0[^<]*?)\s*</td>")


@pytest.fixture
def bob_with_history(client, archives):
    """bob, whose address is verified: his posts, a favourite and a thread he read."""
    from allauth.account.models import EmailAddress
    from hyperkitty.models import LastView

    bob = archives.bob
    EmailAddress.objects.create(user=bob, email="bob@crans.org", verified=True, primary=True)
    LastView.objects.create(thread=Email.objects.get(message_id="m3@crans.org").thread, user=bob)
    client.force_login(bob)
    return bob


@pytest.mark.parametrize("page", ["hk_user_profile", "hk_user_favorites", "hk_user_last_views"])
def test_profile_pages_say_ago(client, bob_with_history, page):
    english = client.get(reverse(page), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    ages = AGE_CELL.findall(main_content(english))
    assert ages
    assert all(age.endswith(" ago") for age in ages), ages
    french = client.get(reverse(page), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "<td>il y a " in main_content(french)


def test_public_profile_says_ago(client, archives, mailman_core, settings):
    point_postorius_at(mailman_core, settings)
    core_user = mailman_core.client().create_user("bob@crans.org", "password", "Bob")
    url = reverse("hk_public_user_profile", args=[core_user.user_id])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert re.search(r"\(\d+\xa0minutes? ago\)", html)
    french = client.get(url, HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert re.search(r"\(il y a \d+\xa0minutes?\)", french)


def test_wrong_password_is_one_red_box(client, site_name):
    get_user_model().objects.create_user("membre", "membre@crans.org", "membre-password")
    response = client.post(reverse("account_login"), {"login": "membre", "password": "wrong"})
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('<div class="alert alert-danger">')
    box = html[start : html.index("</div>", start)]
    assert "not correct" in box  # allauth's "The username and/or password you specified..."
    # Hyperkitty styles an errorlist as an alert of its own: none inside the box.
    assert "errorlist" not in box
    assert html.count("alert-danger") == 1


def error_page_look(html: str) -> None:
    assert f'<img class="crans-logo" src="/static/{THEME}/img/crans-logo.svg" alt="Crans"' in html
    assert f'href="/static/{THEME}/css/crans.css"' in html
    assert f'href="{WIKI_URL}"' in html
    # Upstream's alert box around the explanation (postorius' own tests look for it).
    assert '<div class="alert alert-danger">' in html


def test_not_found_page_is_themed(client, site_name):
    response = client.get("/hyperkitty/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    error_page_look(html)
    assert title(html) == f"Page not found - {SITE_NAME}"
    assert "<h1>Page not found</h1>" in html
    assert f'<span class="crans-site-name">{SITE_NAME}</span>' in html
    french = client.get("/hyperkitty/no-such-page/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "<h1>Page non trouvée</h1>" in french.content.decode()


def test_permission_denied_page_is_themed(rf, site_name):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied

    request = rf.get("/admin/secret/")
    request.user = get_user_model()()
    with translation.override("en"):
        response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    html = response.content.decode()
    error_page_look(html)
    assert title(html) == f"Forbidden - {SITE_NAME}"
    assert "<h1>Forbidden</h1>" in html


# Run in a process of its own, whose database is a closed port.
SERVER_ERROR_WITHOUT_DATABASE = """
import django
django.setup()
from django.db import OperationalError, connection
from django.test import Client
try:
    connection.ensure_connection()
except OperationalError:
    print("database unreachable")
client = Client(raise_request_exception=False)
for path, language in (("/hyperkitty/", "en"), ("/no-such-page/", "fr")):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language, HTTP_HOST="127.0.0.1")
    print(response.status_code)
    print(response.content.decode())
    print("=====")
"""


def test_server_error_page_is_themed_with_the_database_down(tmp_path):
    import os
    import subprocess
    import sys

    closed_port = "9"  # discard: nothing listens there
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.test",
        "MAILMAN_WEB_LOCAL_DIR": str(tmp_path),
        "MAILMAN_WEB_DB_PORT": closed_port,
        "MAILMAN_WEB_DB_HOST": "127.0.0.1",
    }
    result = subprocess.run(
        [sys.executable, "-c", SERVER_ERROR_WITHOUT_DATABASE],
        cwd=THEME_TEMPLATES.parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database unreachable\n")
    english, french = result.stdout.removeprefix("database unreachable\n").split("=====")[:2]
    for html in (english, french):
        assert html.strip().startswith("500")
        error_page_look(html)
    assert "<h1>Server error</h1>" in english
    assert "<title>Server error - Crans</title>" in english
    assert "<h1>Erreur du serveur</h1>" in french
    assert '<html lang="fr">' in french


# The URLs of a site without the archives, as postorius' own test project: the
# theme's pages must render there too (hyperkitty installed, its URLs not).
urlpatterns = [
    path("postorius/", include("postorius.urls")),
    path("", include("django_mailman3.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
]
WITHOUT_ARCHIVES = pytest.mark.urls(__name__)


def assert_no_archives_link(html: str) -> None:
    assert "/hyperkitty/" not in html and "/archives/" not in html
    assert "Back to the archives" not in html


@WITHOUT_ARCHIVES
def test_error_pages_without_the_archives(client, rf, site_name):
    from django.core.exceptions import PermissionDenied
    from django.views.defaults import permission_denied, server_error

    not_found = client.get("/no-such-page/")
    assert not_found.status_code == 404
    request = rf.get("/admin/secret/")
    request.user = get_user_model()()
    with translation.override("en"):
        denied = permission_denied(request, PermissionDenied())
        failed = server_error(rf.get("/"))
    assert (denied.status_code, failed.status_code) == (403, 500)
    for response in (not_found, denied, failed):
        html = response.content.decode()
        error_page_look(html)
        assert '<a class="navbar-brand" href="/">' in html
        assert_no_archives_link(html)


@WITHOUT_ARCHIVES
def test_postorius_page_without_the_archives(client, site_name, settings):
    settings.MAILMAN_REST_API_URL = "http://127.0.0.1:9"
    response = client.get(reverse("list_index"))
    assert response.status_code == 503
    html = response.content.decode()
    assert_crans_look(html, POSTORIUS_CREDITS)
    assert_no_archives_link(html)


def test_overview_and_thread_list_in_french(client, archives, site_name):
    """Hyperkitty's French leaves these in English or garbled; the theme's catalogue fixes them."""
    name = archives.tresorier.name
    overview = client.get(
        reverse("hk_list_overview", args=[name]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert ">Actifs</a>" in overview
    assert ">Populaires</a>" in overview
    assert "portent sur </span>" in overview
    assert "proviennent de" not in overview
    assert 'placeholder="Rechercher ici"' in overview
    latest = client.get(
        reverse("hk_archives_latest", args=[name]), HTTP_ACCEPT_LANGUAGE="fr"
    ).content.decode()
    assert "Démarrer une nouvelle discussion" in latest
    assert re.search(r">\s*par \S", latest)
    assert not re.search(r">\s*by \S", latest)
