"""The production settings hold Crans' values, take secrets from the environment only."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import global_settings
from django.core.exceptions import ImproperlyConfigured

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "data" / "crans-mailman-web.py.txt"  # Crans' file, as on its wiki
SECRETS = {
    "MAILMAN_WEB_SECRET_KEY": "a-secret-key-for-the-tests-only-0123456789-abcdefghijklmnop",
    "MAILMAN_REST_API_PASS": "rest-password",
    "MAILMAN_ARCHIVER_KEY": "archiver-key",
    "MAILMAN_WEB_DB_PASSWORD": "database-password",
}
# Values of Crans' file that production.py changes on purpose (each explained there).
CHANGED = {"SECRET_KEY", "MAILMAN_REST_API_PASS", "MAILMAN_ARCHIVER_KEY", "INSTALLED_APPS"}
CHANGED |= {"DATABASES", "USE_L10N"}


def seed_values() -> dict:
    """The settings of Crans' file, as Python reads them."""
    namespace: dict = {}
    exec(compile(SEED.read_text(), str(SEED), "exec"), namespace)
    return {name: value for name, value in namespace.items() if name.isupper()}


@pytest.fixture
def production(monkeypatch, tmp_path):
    """The production settings module, imported afresh with secrets in the environment."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for name in ("HOST", "PORT", "NAME", "USER"):
        monkeypatch.delenv(f"MAILMAN_WEB_DB_{name}", raising=False)
    monkeypatch.setenv("MAILMAN_WEB_BASE_DIR", str(tmp_path))
    for module in ("crans_mailman_web_settings.production", "crans_mailman_web_settings.crans"):
        sys.modules.pop(module, None)
    yield importlib.import_module("crans_mailman_web_settings.production")
    for module in ("crans_mailman_web_settings.production", "crans_mailman_web_settings.crans"):
        sys.modules.pop(module, None)


def test_seed_file_is_read():
    assert len(seed_values()) >= 25


@pytest.mark.parametrize("name", sorted(set(seed_values()) - CHANGED))
def test_every_unchanged_value_of_crans_file_is_kept(production, name):
    assert getattr(production, name) == seed_values()[name]


def test_secrets_come_from_the_environment(production):
    assert production.SECRET_KEY == SECRETS["MAILMAN_WEB_SECRET_KEY"]
    assert production.MAILMAN_REST_API_PASS == SECRETS["MAILMAN_REST_API_PASS"]
    assert production.MAILMAN_ARCHIVER_KEY == SECRETS["MAILMAN_ARCHIVER_KEY"]
    assert production.DATABASES["default"]["PASSWORD"] == SECRETS["MAILMAN_WEB_DB_PASSWORD"]


def test_secret_from_a_file(production, monkeypatch, tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("key-read-from-a-file\n")
    monkeypatch.delenv("MAILMAN_WEB_SECRET_KEY")
    monkeypatch.setenv("MAILMAN_WEB_SECRET_KEY_FILE", str(secret_file))
    sys.modules.pop("crans_mailman_web_settings.production")
    assert (
        importlib.import_module("crans_mailman_web_settings.production").SECRET_KEY
        == "key-read-from-a-file"
    )


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
@pytest.mark.parametrize("source", ["variable", "file"])
def test_a_blank_secret_is_refused(production, monkeypatch, tmp_path, blank, source):
    monkeypatch.delenv("MAILMAN_WEB_SECRET_KEY")
    if source == "variable":
        monkeypatch.setenv("MAILMAN_WEB_SECRET_KEY", blank)
    else:
        secret_file = tmp_path / "secret_key"
        secret_file.write_text(blank)
        monkeypatch.setenv("MAILMAN_WEB_SECRET_KEY_FILE", str(secret_file))
    sys.modules.pop("crans_mailman_web_settings.production")

    with pytest.raises(ImproperlyConfigured, match="The secret MAILMAN_WEB_SECRET_KEY is not set"):
        importlib.import_module("crans_mailman_web_settings.production")


def test_a_blank_variable_does_not_hide_the_file(production, monkeypatch, tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("key-read-from-a-file\n")
    monkeypatch.setenv("MAILMAN_WEB_SECRET_KEY", "  ")
    monkeypatch.setenv("MAILMAN_WEB_SECRET_KEY_FILE", str(secret_file))
    sys.modules.pop("crans_mailman_web_settings.production")

    assert (
        importlib.import_module("crans_mailman_web_settings.production").SECRET_KEY
        == "key-read-from-a-file"
    )


def test_database_is_crans_postgresql_by_default(production):
    seed = seed_values()["DATABASES"]["default"]
    database = production.DATABASES["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    for key in ("NAME", "USER", "HOST", "PORT", "OPTIONS"):
        assert database[key] == seed[key]


def test_database_address_from_the_environment(production, monkeypatch):
    monkeypatch.setenv("MAILMAN_WEB_DB_HOST", "db.example")
    monkeypatch.setenv("MAILMAN_WEB_DB_PORT", "6543")
    monkeypatch.setenv("MAILMAN_WEB_DB_NAME", "lists")
    monkeypatch.setenv("MAILMAN_WEB_DB_USER", "web")
    sys.modules.pop("crans_mailman_web_settings.production")
    database = importlib.import_module("crans_mailman_web_settings.production").DATABASES["default"]
    assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "db.example",
        6543,
        "lists",
        "web",
    )


def test_installed_apps_are_crans_apps_without_the_broken_allauth_cas(production):
    seed = [app for app in seed_values()["INSTALLED_APPS"] if app != "allauth_cas"]
    added = {"django.contrib.humanize", "crans_admin"}
    # Django's admin, with the bundle's admin site.
    replaced = {"crans_admin.admin.apps.CransAdminSiteConfig": "django.contrib.admin"}
    apps = [replaced.get(app, app) for app in production.INSTALLED_APPS if app not in added]
    assert apps == seed
    assert production.INSTALLED_APPS[0] == "mailman_crans_theme"
    assert "allauth_cas" not in production.INSTALLED_APPS


def test_use_l10n_is_left_to_django_which_defaults_to_crans_value(production):
    assert not hasattr(production, "USE_L10N")
    assert global_settings.USE_L10N is seed_values()["USE_L10N"]


def test_only_the_second_proxy_header_of_crans_file_is_kept(production):
    assert production.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_SCHEME", "https")


def test_no_secret_is_committed_in_production_settings():
    for path in (REPO / "settings").glob("*.py"):
        text = path.read_text()
        for value in ("SecretArchiverAPIKey", "restpass", "PASSWORD'"):
            assert value not in text, f"{path.name} holds {value!r}"


def manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Run manage.py with the production settings and only the given secrets."""
    (tmp_path / "logs").mkdir(exist_ok=True)
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in SECRETS and not key.endswith("_FILE")
    }
    environment |= {
        "DJANGO_SETTINGS_MODULE": "crans_mailman_web_settings.production",
        "MAILMAN_WEB_BASE_DIR": str(tmp_path),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-W", "always", str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_a_missing_secret_stops_start_up_naming_the_variable(missing, tmp_path):
    given = {name: value for name, value in SECRETS.items() if name != missing}
    result = manage("check", env=given, tmp_path=tmp_path)
    assert result.returncode != 0
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert f"The secret {missing} is not set" in last_line


def test_start_up_gives_no_warning(tmp_path):
    result = manage("check", env=SECRETS, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_reports_only_what_the_reverse_proxy_handles(tmp_path):
    result = manage("check", "--deploy", env=SECRETS, tmp_path=tmp_path)
    reported = {
        line.split(")")[0].strip("?: (") for line in result.stderr.splitlines() if ": (" in line
    }
    assert reported == {"security.W004", "security.W008"}, result.stderr


def reimported(monkeypatch, **variables: str):
    """The production settings imported again with ``variables`` in the environment."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    sys.modules.pop("crans_mailman_web_settings.production")
    return importlib.import_module("crans_mailman_web_settings.production")


def test_one_host_by_default(production):
    """No variable: a cache per process, the index in the base folder, a connection per request."""
    assert not hasattr(production, "CACHES")
    assert production.HAYSTACK_CONNECTIONS["default"]["PATH"].endswith("fulltext_index")
    assert production.DATABASES["default"]["CONN_MAX_AGE"] == 0
    assert production.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize(
    "url, backend, location",
    [
        ("redis://10.0.0.5:6379/1", "redis.RedisCache", "redis://10.0.0.5:6379/1"),
        ("unix:///run/redis/redis.sock", "redis.RedisCache", "unix:///run/redis/redis.sock"),
        ("memcached://10.0.0.5:11211", "memcached.PyMemcacheCache", "10.0.0.5:11211"),
    ],
)
def test_shared_cache_from_the_environment(production, monkeypatch, url, backend, location):
    cache = reimported(monkeypatch, MAILMAN_WEB_CACHE_URL=url).CACHES["default"]
    assert cache["BACKEND"] == f"django.core.cache.backends.{backend}"
    assert cache["LOCATION"] == location


def test_unknown_cache_url_is_refused(production, monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="MAILMAN_WEB_CACHE_URL"):
        reimported(monkeypatch, MAILMAN_WEB_CACHE_URL="mongodb://10.0.0.5")


def test_hosts_index_and_connections_from_the_environment(production, monkeypatch):
    settings = reimported(
        monkeypatch,
        MAILMAN_WEB_SEARCH_INDEX_DIR="/srv/shared/fulltext_index",
        MAILMAN_WEB_DB_CONN_MAX_AGE="60",
        MAILMAN_WEB_ALLOWED_HOSTS="web2.crans.org, 10.0.0.6",
        MAILMAN_REST_API_URL="http://10.0.0.2:8001",
        CRANS_CAS_SERVER_URL="https://cas2.crans.org/",
    )
    assert settings.HAYSTACK_CONNECTIONS["default"]["PATH"] == "/srv/shared/fulltext_index"
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] == 60
    assert settings.ALLOWED_HOSTS[-2:] == ["web2.crans.org", "10.0.0.6"]
    assert settings.MAILMAN_REST_API_URL == "http://10.0.0.2:8001"
    assert settings.SOCIALACCOUNT_PROVIDERS["crans"]["SERVER_URL"] == "https://cas2.crans.org/"
