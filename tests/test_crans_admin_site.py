"""crans_set_site: the current Site's domain and name, from the command line."""

import html
import re
from io import StringIO

import pytest
from django.conf import settings
from django.contrib.sites.models import Site
from django.core.management import CommandError, call_command
from django_mailman3.models import MailDomain

pytestmark = pytest.mark.django_db


def set_site(*args: str, verbosity: int = 1) -> tuple[str, str]:
    """Run crans_set_site; return its stdout and stderr."""
    stdout, stderr = StringIO(), StringIO()
    call_command("crans_set_site", *args, stdout=stdout, stderr=stderr, verbosity=verbosity)
    return stdout.getvalue(), stderr.getvalue()


def current_site() -> tuple[str, str]:
    site = Site.objects.get(pk=settings.SITE_ID)
    return site.domain, site.name


def test_defaults_are_crans_values():
    assert current_site() == ("example.com", "example.com")

    stdout, stderr = set_site()

    assert current_site() == ("lists.crans.org", "Listes Crans")
    assert (settings.CRANS_SITE_DOMAIN, settings.CRANS_SITE_NAME) == current_site()
    assert "domain name 'example.com' -> 'lists.crans.org'" in stdout
    assert "display name 'example.com' -> 'Listes Crans'" in stdout
    assert "Restart the web server" in stdout
    assert stderr == ""


def test_options_set_domain_and_name():
    stdout, _ = set_site("--domain", "mailman.crans.org", "--name", "Mailman du Crans")

    assert current_site() == ("mailman.crans.org", "Mailman du Crans")
    assert "'example.com' -> 'mailman.crans.org'" in stdout


def test_second_run_changes_nothing_and_says_so():
    set_site()
    stdout, _ = set_site()

    assert "nothing changed" in stdout
    assert "->" not in stdout
    assert "Restart" not in stdout
    assert current_site() == ("lists.crans.org", "Listes Crans")


def test_only_the_name_changes():
    set_site()
    stdout, _ = set_site("--name", "Listes de diffusion")

    assert "display name 'Listes Crans' -> 'Listes de diffusion'" in stdout
    assert "domain name" not in stdout


def test_dry_run_prints_the_change_and_writes_nothing():
    stdout, _ = set_site("--dry-run")

    assert stdout.startswith("Dry run: nothing is written.")
    assert "'example.com' -> 'lists.crans.org'" in stdout
    assert "Restart" not in stdout
    assert current_site() == ("example.com", "example.com")


def test_verbosity_0_prints_nothing():
    stdout, _ = set_site(verbosity=0)

    assert stdout == ""
    assert current_site() == ("lists.crans.org", "Listes Crans")


def test_missing_site_is_created_with_site_id():
    Site.objects.all().delete()

    stdout, _ = set_site()

    assert current_site() == ("lists.crans.org", "Listes Crans")
    assert f"Site #{settings.SITE_ID} created" in stdout
    # The id sequence moved past SITE_ID: the next Site gets a free id.
    other = Site.objects.create(domain="other.example.org", name="Other")
    assert other.pk != settings.SITE_ID


@pytest.mark.parametrize(
    ("domain", "reason"),
    [
        ("", "is empty"),
        ("lists crans.org", "contains a space"),
        (" lists.crans.org", "contains a space"),
        ("lists.crans.org\t", "contains a space"),
        ("https://lists.crans.org", "has a scheme: give the host alone, e.g. 'lists.crans.org'"),
        ("https://lists.crans.org/", "has a scheme"),
        ("lists.crans.org/archives/", "has a path: give the host alone, e.g. 'lists.crans.org'"),
        ("lists.crans.org:http", "is not a host name"),
        ("lists.crans.org:", "is not a host name"),
        ("lists.crans.org.", "is not a host name"),
        ("lists_crans.org", "is not a host name"),
        ("user@lists.crans.org", "is not a host name"),
        ("a" * 101, "is longer than 100 characters"),
    ],
)
def test_bad_domain_is_refused_and_nothing_changes(domain, reason):
    with pytest.raises(CommandError) as raised:
        set_site("--domain", domain)

    assert reason in str(raised.value)
    if domain:
        assert repr(domain) in str(raised.value)
    assert current_site() == ("example.com", "example.com")


@pytest.mark.parametrize(
    ("domain", "stored"),
    [
        ("localhost:8000", "localhost:8000"),
        ("[::1]:8000", "[::1]:8000"),
        ("127.0.0.1", "127.0.0.1"),
        ("Lists.Crans.ORG", "lists.crans.org"),
    ],
)
def test_hosts_that_django_accepts_are_accepted(domain, stored):
    set_site("--domain", domain)

    assert current_site()[0] == stored


@pytest.mark.parametrize("name", ["", "   "])
def test_empty_name_is_refused(name):
    with pytest.raises(CommandError, match="The site name is empty"):
        set_site("--name", name)

    assert current_site() == ("example.com", "example.com")


def test_too_long_name_is_refused():
    with pytest.raises(CommandError, match="longer than 50 characters"):
        set_site("--name", "L" * 51)

    assert current_site() == ("example.com", "example.com")


@pytest.mark.parametrize("other_domain", ["lists.crans.org", "LISTS.crans.org"])
def test_domain_of_another_site_is_refused(other_domain):
    other = Site.objects.create(domain=other_domain, name="Ancien site")

    with pytest.raises(CommandError) as raised:
        set_site()

    assert f"already used by site #{other.pk} ('Ancien site')" in str(raised.value)
    assert current_site() == ("example.com", "example.com")


def test_missing_crans_setting_asks_for_the_option(settings):
    del settings.CRANS_SITE_NAME

    with pytest.raises(CommandError, match="Give --name: settings.CRANS_SITE_NAME is not set"):
        set_site()

    stdout, _ = set_site("--name", "Listes")
    assert current_site() == ("lists.crans.org", "Listes")


def test_mail_domains_mapped_to_the_site_stay_mapped():
    site = Site.objects.get(pk=settings.SITE_ID)
    MailDomain.objects.create(site=site, mail_domain="lists.crans.org")
    MailDomain.objects.create(site=site, mail_domain="crans.org")

    stdout, _ = set_site()

    assert set(MailDomain.objects.values_list("mail_domain", "site_id")) == {
        ("lists.crans.org", settings.SITE_ID),
        ("crans.org", settings.SITE_ID),
    }
    assert "Mail domains mapped to this site (kept): crans.org, lists.crans.org" in stdout


def test_no_mail_domain_yet_is_said():
    stdout, _ = set_site()

    assert "No mail domain is mapped to this site yet" in stdout
    assert not MailDomain.objects.exists()


def test_mail_domain_mapped_to_another_site_is_warned_about_and_left_alone():
    other = Site.objects.create(domain="old.crans.org", name="Ancien")
    MailDomain.objects.create(site=other, mail_domain="lists.crans.org")

    _, stderr = set_site()

    assert "The mail domain 'lists.crans.org' is mapped to site #" in stderr
    assert MailDomain.objects.get(mail_domain="lists.crans.org").site == other


def test_host_outside_allowed_hosts_is_warned_about(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["lists.crans.org"]

    _, stderr = set_site("--domain", "listes.crans.org")

    assert "'listes.crans.org' is not in ALLOWED_HOSTS" in stderr
    assert current_site()[0] == "listes.crans.org"
    _, stderr = set_site("--domain", "lists.crans.org")
    assert stderr == ""


def test_port_with_filter_vhost_is_warned_about(settings):
    settings.FILTER_VHOST = True

    _, stderr = set_site("--domain", "localhost:8000")

    assert "FILTER_VHOST" in stderr


def test_site_cache_of_this_process_is_cleared():
    assert Site.objects.get_current().name == "example.com"  # now cached

    set_site()

    assert Site.objects.get_current().name == "Listes Crans"


def page_title(response) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", response.content.decode(), re.S)[1])


def test_new_name_shows_where_django_mailman3_shows_site_name(client):
    assert "example.com" in page_title(client.get("/archives/"))

    set_site("--name", "Listes Crans & Cie")

    response = client.get("/archives/")
    assert response.status_code == 200
    assert response.context["site_name"] == "Listes Crans & Cie"
    assert "Listes Crans & Cie" in page_title(response)
    assert "example.com" not in response.content.decode()


def test_command_runs_through_manage_py(run_manage, tmp_path):
    run_manage("migrate", "--verbosity", "0")

    first = run_manage("crans_set_site")
    second = run_manage("crans_set_site")
    refused = run_manage("crans_set_site", "--domain", "https://lists.crans.org/", check=False)

    assert "'example.com' -> 'lists.crans.org'" in first.stdout
    assert "nothing changed" in second.stdout
    assert refused.returncode == 1
    assert "CommandError: The domain 'https://lists.crans.org/' has a scheme" in refused.stderr
    log = (tmp_path / "var" / "logs" / "mailmanweb.log").read_text()
    assert log.count("crans_admin.sites Site #1 changed by") == 1
