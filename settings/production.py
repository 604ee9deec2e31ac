"""Production settings: Crans' values, secrets and database from the environment.

Point mailman-web at this module with
``DJANGO_SETTINGS_MODULE=crans_mailman_web_settings.production``.
"""

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

from .crans import *  # noqa: F403
from .environment import secret, setting

# Crans' file holds the secrets themselves; here they come from the
# environment (or from files named by ``<NAME>_FILE``), and start-up stops
# with the variable's name when one is missing.
SECRET_KEY = secret("MAILMAN_WEB_SECRET_KEY")
MAILMAN_REST_API_PASS = secret("MAILMAN_REST_API_PASS")
MAILMAN_ARCHIVER_KEY = secret("MAILMAN_ARCHIVER_KEY")
# Core's REST API and the CAS: Crans' addresses unless the environment names others.
MAILMAN_REST_API_URL = setting("MAILMAN_REST_API_URL", MAILMAN_REST_API_URL)  # noqa: F405
SOCIALACCOUNT_PROVIDERS = {
    **SOCIALACCOUNT_PROVIDERS,  # noqa: F405
    "crans": {
        **SOCIALACCOUNT_PROVIDERS["crans"],  # noqa: F405
        **({"SERVER_URL": url} if (url := setting("CRANS_CAS_SERVER_URL", "")) else {}),
    },
}

# Crans' database, with its address from the environment. The engine name
# "postgresql_psycopg2" of Crans' file is gone since Django 3.0.
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": setting("MAILMAN_WEB_DB_NAME", "mailman3web"),
        "USER": setting("MAILMAN_WEB_DB_USER", "mailman3web"),
        "PASSWORD": secret("MAILMAN_WEB_DB_PASSWORD"),
        "HOST": setting("MAILMAN_WEB_DB_HOST", "172.16.10.1"),
        "PORT": int(setting("MAILMAN_WEB_DB_PORT", "5432")),
        "OPTIONS": {},
        # Not in Crans' file: seconds a connection is kept for the next requests
        # of its thread (0, Django's default: one connection per request), and a
        # check before reusing one, so that a restarted PostgreSQL costs no
        # error after its restart (docs/production.md).
        "CONN_MAX_AGE": int(setting("MAILMAN_WEB_DB_CONN_MAX_AGE", "0")),
        "CONN_HEALTH_CHECKS": True,
    }
}
# Other names the site answers to (comma-separated), e.g. a second web host's.
ALLOWED_HOSTS = [
    *ALLOWED_HOSTS,  # noqa: F405
    *(host.strip() for host in setting("MAILMAN_WEB_ALLOWED_HOSTS", "").split(",") if host.strip()),
]

# Not in Crans' file: the site is only served over https (behind the reverse
# proxy), so its cookies never need to travel in clear.
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# Not in Crans' file: several web hosts on one database (docs/production.md).
# MAILMAN_WEB_CACHE_URL: a cache they share, instead of each process's own
# memory: redis://host:port/db (Debian's redis-server, python3-redis) or
# memcached://host:port (Debian's memcached, python3-pymemcache).
cache_backends = {
    "redis": "django.core.cache.backends.redis.RedisCache",
    "rediss": "django.core.cache.backends.redis.RedisCache",
    "unix": "django.core.cache.backends.redis.RedisCache",
    "memcached": "django.core.cache.backends.memcached.PyMemcacheCache",
}
if cache_url := setting("MAILMAN_WEB_CACHE_URL", ""):
    cache_scheme = urlsplit(cache_url).scheme
    if cache_scheme not in cache_backends:
        raise ImproperlyConfigured(
            f"MAILMAN_WEB_CACHE_URL is {cache_url!r}: use redis://HOST:PORT/DB or "
            "memcached://HOST:PORT."
        )
    CACHES = {
        "default": {
            "BACKEND": cache_backends[cache_scheme],
            "LOCATION": cache_url if cache_scheme != "memcached" else urlsplit(cache_url).netloc,
            "KEY_PREFIX": "mailman-web",
        }
    }
# MAILMAN_WEB_SEARCH_INDEX_DIR: the search index's folder, when it is not in
# MAILMAN_WEB_BASE_DIR: one folder shared by the hosts, written by one of them.
if search_index_dir := setting("MAILMAN_WEB_SEARCH_INDEX_DIR", ""):
    HAYSTACK_CONNECTIONS = {
        "default": {**HAYSTACK_CONNECTIONS["default"], "PATH": search_index_dir}  # noqa: F405
    }
