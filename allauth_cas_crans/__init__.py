"""django-allauth provider "crans": log in through Crans' CAS.

Configured by ``SOCIALACCOUNT_PROVIDERS["crans"]`` alone (no SocialApp row);
every key and its default is in ``conf.DEFAULTS``. URLs, under ``accounts/``:
``crans/login/`` (to the CAS), ``crans/login/callback/`` (back from the CAS
with a ticket; also the single-logout endpoint the CAS POSTs to) and
``crans/logout/``.

Choices:

- The member's uid is the CAS user, stripped and lower-cased: it is the
  SocialAccount uid and the new user's username.
- An e-mail released by the CAS is verified: the member logs in at once,
  even with ``ACCOUNT_EMAIL_VERIFICATION = "mandatory"``. Without one,
  ``<uid>@EMAIL_DOMAIN`` is used unverified: allauth mails a confirmation
  first (``"VERIFIED_EMAIL": ["crans.org"]`` trusts it instead).
- ``EMAIL_AUTHENTICATION`` is on: a verified CAS e-mail logs into the local
  account that has it; with ``SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT``
  (set in Crans' settings) the CAS account is connected to it. allauth wipes
  the local password when the local address was never verified.
- Later logins take the names and the CAS e-mail (made primary) from the CAS.
- Logins of one member run one after the other (``models.LoginLock``), so
  two first logins at the same moment make one user.
"""
