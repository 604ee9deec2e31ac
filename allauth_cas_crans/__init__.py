"""django-allauth provider "crans": log in through Crans' CAS.

Configured by ``SOCIALACCOUNT_PROVIDERS["crans"]`` alone (no SocialApp row;
keys and defaults in ``conf.py``). URLs under ``accounts/crans/``: ``login/``,
``login/callback/`` (back from the CAS with a ticket; also where the CAS posts
single-logout requests) and ``logout/``. What a login may do to an account:
docs/cas-login.md.
"""
