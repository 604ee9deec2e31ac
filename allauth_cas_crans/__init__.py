"""django-allauth provider "crans": log in through Crans' CAS.

Configured by ``SOCIALACCOUNT_PROVIDERS["crans"]`` alone (no SocialApp row);
every key and its default is in ``conf.DEFAULTS``. URLs, under ``accounts/``:
``crans/login/`` (to the CAS), ``crans/login/callback/`` (back from the CAS
with a ticket; also the single-logout endpoint the CAS POSTs to) and
``crans/logout/``.

Choices:

- The member's uid is the CAS user, stripped and lower-cased: it is the
  SocialAccount uid. A CAS user longer than the uid column (191 characters)
  or holding control characters is refused (error page). The new account's
  username is made of the CAS username: the characters Django accepts,
  lower-cased, cut to 140 characters; allauth makes it unique.
- A row stored un-normalised by django-allauth-cas (``Bob``) is joined by
  the member's next login (``uids.py``), whatever the process; two rows
  that normalise to one uid stop the login on the error page, none picked
  (``mailman-web crans_upgrade`` names them).
- Which CAS addresses are verified: those of the domains in
  ``VERIFIED_EMAIL`` (default ``["crans.org"]``: Crans delivers
  ``<uid>@crans.org`` to the member ``<uid>``; exact domains, no subdomains).
  Any other address the CAS releases is stored unverified, and allauth mails
  a confirmation first (``ACCOUNT_EMAIL_VERIFICATION = "mandatory"``). Widen
  the list only with domains whose mailboxes the CAS' accounts really own:
  a CAS account whose mail attribute is in a listed domain is believed.
  Without a CAS address, ``<uid>@EMAIL_DOMAIN`` is used, by the same rule.
- A member's first login (no account connected to the uid yet) is
  connected to an existing account only when a verified CAS address is one
  that account verified itself, and that account has neither staff nor
  superuser status, is active and is connected to no other CAS account
  (``CONNECT_BY_EMAIL``; ``accounts.py``). An address matching an account
  that may not be connected stops the login on the error page: that
  account's owner logs in with its password and connects the CAS account
  from the account connections page (``/accounts/3rdparty/``). Otherwise a
  new account is made, without any address another account holds (verified
  or not): it then gets ``<uid>@EMAIL_DOMAIN`` if free, or allauth asks for
  an address. allauth's own ``EMAIL_AUTHENTICATION`` (which matches
  unverified addresses too) is refused.
- Later logins take the names and the verified CAS address (made primary,
  unless another account verified it) from the CAS.
- Ticket validation has a total deadline (``TIMEOUT`` seconds, connection,
  headers and answer included) and reads at most ``MAX_ANSWER_SIZE`` bytes;
  a slow, oversized, refused or garbled answer is the error page. Logs
  name tickets by their first 8 characters only.
- Single logout: a POST to the callback naming service tickets ends the
  sessions they opened. It is accepted only from ``LOGOUT_REQUEST_ADDRESSES``
  (addresses or networks), by default the addresses the host of
  ``SERVER_URL`` resolves to; ``[]`` turns single logout off. The address
  is the request's ``REMOTE_ADDR``: behind a reverse proxy, have it pass the
  client's address there (nginx: ``uwsgi_param REMOTE_ADDR $remote_addr``)
  or list the CAS' address as the proxy reports it. Anyone at those
  addresses who knows a ticket can end its session; nothing else is trusted
  (no entity, no DTD, no network access while parsing).
- Logins of one member run one after the other (``models.LoginLock``), so
  two first logins at the same moment make one user.
"""
