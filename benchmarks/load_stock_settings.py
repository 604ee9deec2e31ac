"""The load benchmark's stock site: PyPI mailman-web's own settings (devstack.stock_settings),
with two changes that make its members' logins cost what the bundle's CAS logins cost.

- Passwords hashed with MD5, as the CAS server hashes them: with Django's
  default hasher (PBKDF2, 870 000 iterations) each password login costs the
  stock site some 0.3 s of CPU, which a CAS login does not cost mailman-web.
- allauth's login rate limit (30 a minute per IP address, in each process's
  memory) off: every client of the benchmark comes from 127.0.0.1.
"""

from devstack.stock_settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ACCOUNT_RATE_LIMITS = {"login": False}
