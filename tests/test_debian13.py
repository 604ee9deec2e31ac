"""The README's Debian 13 steps on a Debian 13 root filesystem with Debian's mailman3-web.

The root filesystem (tests/debian13.py) holds Debian's packages only; the
bundle and python-cas are installed as the README says, from wheels made
outside (the root filesystem has no pip configuration and no index). Then,
through Debian's own manage.py and as www-data: Crans' settings are active,
``check --deploy``, ``migrate`` on the throw-away PostgreSQL of ``.ci/postgres``
(127.0.0.1 is shared with the root filesystem), ``collectstatic``, ``compress``,
themed pages, a CAS login against a real django-cas-server, ``crans_set_site``,
``crans_grant_superuser`` and ``rename_list`` on seeded archives. Needs root.
No ``compilemessages``: Debian's packages and the wheel ship compiled
catalogues (the README says so), and the French pages show them at work.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import psycopg2
import pytest
import requests

from devstack.cas_server import submit_login_form
from tests.debian13 import (
    PACKAGES,
    Debian,
    checked,
    chroot,
    copy_wheels,
    make_wheels,
    reported_checks,
    unpacked_root,
)
from tests.fixtures.cas_server import MEMBERS

pytestmark = pytest.mark.debian13

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
SETTINGS_LINE = "from crans_mailman_web_settings.production import *  # noqa: F403"
APT_LINE = f"apt-get install mailman3-full {' '.join(PACKAGES[1:])}"
PIP_LINE = "pip install --break-system-packages"
SECRETS = {
    "MAILMAN_WEB_SECRET_KEY": "a-secret-key-for-the-debian-test-only-0123456789-abcdefghijklmn",
    "MAILMAN_REST_API_PASS": "rest-password",
    "MAILMAN_ARCHIVER_KEY": "archiver-key",
    "MAILMAN_WEB_DB_PASSWORD": "database-password",
}
ALICE = next(member for member in MEMBERS if member.username == "alice")


def cas_version() -> str:
    from importlib.metadata import version

    return version("python-cas")


@pytest.fixture(scope="module")
def database():
    """A database of its own on the PostgreSQL server of ``.ci/postgres``; its settings."""
    server = {
        "host": os.environ["MAILMAN_WEB_DB_HOST"],
        "port": int(os.environ["MAILMAN_WEB_DB_PORT"]),
        "user": os.environ["MAILMAN_WEB_DB_USER"],
        "password": os.environ["MAILMAN_WEB_DB_PASSWORD"],
    }
    name = f"crans_debian13_{os.getpid()}"
    connection = psycopg2.connect(dbname="postgres", **server)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield {
        "MAILMAN_WEB_DB_HOST": server["host"],
        "MAILMAN_WEB_DB_PORT": str(server["port"]),
        "MAILMAN_WEB_DB_USER": server["user"],
        "MAILMAN_WEB_DB_NAME": name,
    }
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    connection.close()


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """The bundle's wheel and python-cas', made outside the root filesystem."""
    folder = tmp_path_factory.mktemp("wheels")
    return make_wheels(folder, [REPO], [f"python-cas=={cas_version()}"])


@pytest.fixture(scope="module")
def debian(tmp_path_factory, wheels, database, cas_server):
    """The root filesystem with the bundle installed and Crans' settings pointed at."""
    with unpacked_root(tmp_path_factory.mktemp("debian13") / "root") as root:
        copy_wheels(root, wheels)
        # The README's pip line, with the index replaced by the wheels.
        pip_install = ["python3", "-m", *PIP_LINE.split()[:2], "--break-system-packages"]
        install = checked(
            chroot(
                root,
                *pip_install,
                *("--no-index", "--find-links", "/tmp/wheels", "crans-mailman-web"),
            )
        )
        config = root / "etc" / "mailman3" / "mailman-web.py"
        config.write_text(
            f"{SETTINGS_LINE}\n"
            "# The test's CAS server on loopback instead of Crans' CAS; its members'\n"
            "# addresses are trusted as Crans' own are in production.\n"
            'SOCIALACCOUNT_PROVIDERS = {"crans": {'
            f'"SERVER_URL": "{cas_server.url}", "VERIFIED_EMAIL": ["example.org"]}}}}\n'
        )
        yield Debian(root, {**SECRETS, **database}, install.stdout)


def test_the_readme_gives_these_debian_steps():
    debian_section = README[README.index("### Debian 13") :]
    for line in (APT_LINE, PIP_LINE, SETTINGS_LINE, "mailman-web crans_settings"):
        assert line in debian_section


def test_pip_installs_python_cas_and_the_bundle_only(debian):
    installed = [
        line for line in debian.install_output.splitlines() if "Successfully installed" in line
    ]
    assert installed == [
        f"Successfully installed crans-mailman-web-1.0.0 python-cas-{cas_version()}"
    ]


def test_crans_settings_are_active_through_debian_mailman_web_command(debian):
    # /usr/bin/mailman-web, as an administrator runs it (su to www-data).
    result = checked(
        chroot(
            debian.root,
            "mailman-web",
            "crans_settings",
            env={**debian.env, "PYTHONWARNINGS": "error::DeprecationWarning"},
        )
    )
    assert "Crans' settings are active (settings) on Debian's mailman3-web." in result.stdout
    assert "Django 4.2.28, django-allauth 65.0.2" in result.stdout
    # No deprecation warning; the one check warning is the test's CAS on http.
    assert "Deprecat" not in result.stderr
    assert reported_checks(result.stderr) == {"allauth_cas_crans.W002"}


def test_without_the_line_crans_settings_is_an_unknown_command(debian):
    """Debian's defaults run instead: the README's one command tells."""
    config = debian.root / "etc" / "mailman3" / "mailman-web.py"
    line = config.read_text()
    config.write_text("# Debian's defaults\n")
    try:
        result = chroot(debian.root, "mailman-web", "crans_settings", env=debian.env)
    finally:
        config.write_text(line)
    assert result.returncode == 1
    assert "Unknown command: 'crans_settings'" in result.stderr


def test_a_missing_secret_stops_debian_mailman_web_naming_it(debian):
    """Not an ImportError, which Debian's settings.py would silently ignore."""
    env = {name: value for name, value in debian.env.items() if name != "MAILMAN_ARCHIVER_KEY"}
    result = debian.manage("check", env=env, check=False)
    assert result.returncode == 1
    assert "ImproperlyConfigured: The secret MAILMAN_ARCHIVER_KEY is not set" in result.stderr


def test_settings_are_crans_theme_first_cas_provider_and_admin_commands(debian):
    values = debian.python(
        "import json; from django.conf import settings as s;"
        "print(json.dumps([s.INSTALLED_APPS[0], list(s.SOCIALACCOUNT_PROVIDERS),"
        " 'crans_admin' in s.INSTALLED_APPS, s.ROOT_URLCONF, s.STATIC_ROOT]))"
    )
    assert values == [
        "mailman_crans_theme",
        ["crans"],
        True,
        "urls",
        "/var/lib/mailman3/web/static",
    ]


def test_check_deploy_reports_only_what_the_proxy_and_the_test_cas_cause(debian):
    result = debian.manage(
        "check", "--deploy", env={**debian.env, "PYTHONWARNINGS": "error::DeprecationWarning"}
    )
    # W002: the test's CAS server answers on http://127.0.0.1.
    assert reported_checks(result.stderr) == {
        "security.W004",
        "security.W008",
        "allauth_cas_crans.W002",
    }


@pytest.fixture(scope="module")
def deployed(debian):
    """After the README's upgrade steps: migrate, collectstatic, compress."""
    debian.manage("migrate", "--noinput", "-v", "0", timeout=600)
    debian.manage("collectstatic", "--noinput", "-v", "0", timeout=600)
    result = debian.manage("compress", timeout=600)
    return debian, result.stdout


def test_compress_uses_debian_precompiled_hyperkitty_css(deployed):
    debian, output = deployed
    assert "Compressed 2 block(s)" in output
    css = list((debian.root / "var/lib/mailman3/web/static/CACHE/css").glob("output.*.css"))
    assert css and any(".thread-list" in path.read_text() for path in css)


# The theme's button, in English and in French (the bundle's compiled catalogue).
BUTTON = {"en": "Log in with your Crans account", "fr": "Se connecter avec son compte Crans"}
PAGES = f"""
import json
from django.test import Client
from django.urls import reverse

found = {{}}
for language, button in {BUTTON!r}.items():
    for name in ("hk_root", "account_login"):
        response = Client(HTTP_HOST="localhost").get(
            reverse(name), secure=True, HTTP_ACCEPT_LANGUAGE=language
        )
        text = response.content.decode()
        found[f"{{name}} {{language}}"] = [
            response.status_code,
            "mailman_crans_theme/css/crans.css" in text,
            "/mailman3/static/CACHE/css/output." in text,
            button in text,
        ]
print(json.dumps(found))
"""


def test_themed_pages_render_with_the_offline_compression(deployed):
    debian, _ = deployed
    found = debian.python(PAGES)
    assert found == {
        f"{name} {language}": [200, True, True, name == "account_login"]
        for language in ("en", "fr")
        for name in ("hk_root", "account_login")
    }


CAS_LOGIN = """
import json, sys
from urllib.parse import urlsplit
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

client = Client(HTTP_HOST="localhost")
response = client.get(reverse("crans_login"), secure=True)
print(json.dumps({"cas": response["Location"]}), flush=True)
service = urlsplit(sys.stdin.readline().strip())
response = client.get(f"{service.path}?{service.query}", secure=True)
user = get_user_model().objects.get(pk=client.session["_auth_user_id"])
account = SocialAccount.objects.get(user=user)
print(json.dumps([response.status_code, user.username, user.email, account.provider, account.uid]))
"""


@pytest.fixture(scope="module")
def cas_login(deployed, cas_server) -> dict:
    """alice logs in through the CAS: the page inside, the CAS form outside."""
    debian, _ = deployed
    command = ["python3", "/usr/share/mailman3-web/manage.py", "shell", "-c", CAS_LOGIN]
    environment = [f"{name}={value}" for name, value in debian.env.items()]
    process = subprocess.Popen(
        ["chroot", "--userspec=www-data:www-data", str(debian.root), "env", "-i"]
        + ["PATH=/usr/bin:/bin", "HOME=/tmp", *environment, *command],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        cas_url = json.loads(process.stdout.readline())["cas"]
        session = requests.Session()
        page = session.get(cas_url, timeout=30)
        answer = submit_login_form(session, page, ALICE.username, ALICE.password)
        stdout, stderr = process.communicate(answer.headers.get("Location", "") + "\n", 120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    return {"cas_url": cas_url, "ticket_redirect": answer, "result": stdout.splitlines()[-1]}


def test_cas_login_against_django_cas_server(cas_login, cas_server):
    assert cas_login["cas_url"].startswith(f"{cas_server.url}login?service=https%3A%2F%2Flocalhost")
    assert "ticket=ST-" in cas_login["ticket_redirect"].headers["Location"]
    assert json.loads(cas_login["result"]) == [302, "alice", ALICE.email, "crans", "alice"]


SEED = """
import json
from email.message import EmailMessage
from django.contrib.sites.models import Site
from django_mailman3.models import MailDomain
from hyperkitty.lib.incoming import add_to_list

MailDomain.objects.get_or_create(site=Site.objects.get_current(), mail_domain="lists.crans.org")
for number in range(1, 6):
    email = EmailMessage()
    email["From"] = "Alice <alice@crans.org>"
    email["Subject"] = f"Budget {number}"
    email["Message-ID"] = f"<debian13-{number}@crans.org>"
    email["Date"] = f"Mon, 02 Sep 2024 1{number}:00:00 +0200"
    email.set_content(f"Budget line {number}")
    add_to_list("tresorier@lists.crans.org", email)
print(json.dumps("seeded"))
"""

LISTS = """
import json
from django.contrib.sites.models import Site
from django.contrib.auth import get_user_model
from hyperkitty.models import MailingList

site = Site.objects.get_current()
print(json.dumps({
    "lists": {m.name: m.emails.count() for m in MailingList.objects.all()},
    "site": [site.domain, site.name],
    "superusers": sorted(get_user_model().objects.filter(is_superuser=True).values_list(
        "username", flat=True)),
}))
"""


def test_crans_commands_on_debian(deployed, cas_login):
    debian, _ = deployed
    debian.manage("crans_set_site")
    debian.python(SEED, timeout=300)
    debian.manage(  # no Mailman core in the root filesystem: the web side only
        "rename_list",
        "tresorier@lists.crans.org",
        "tresorerie@lists.crans.org",
        "--core-renamed-separately",
        timeout=600,
    )
    debian.manage("crans_grant_superuser", "alice")  # a member who logged in through the CAS
    state = debian.python(LISTS)
    assert state["site"] == ["lists.crans.org", "Listes Crans"]
    assert state["lists"] == {"tresorerie@lists.crans.org": 5}
    assert state["superusers"] == ["alice"]
