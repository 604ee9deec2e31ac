"""Sessions the site cannot read: the old site's (Django 2.2's format, pickle serializer).

Django 4.2 reads them as empty sessions: every member logged in on the old
site is logged out once. The upgrade deletes them (they hold nothing usable).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.core import signing


def unreadable_sessions() -> list[str]:
    """The keys of stored sessions that decode to nothing; [] when sessions are not in a model."""
    from allauth_cas_crans.single_logout import session_model

    model = session_model()
    if model is None:
        return []
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    keys = []
    for key, data in model._default_manager.values_list("session_key", "session_data"):
        try:
            signing.loads(data, salt=store.key_salt, serializer=store.serializer)
        except Exception:  # a bad signature, an old format, a pickle
            keys.append(key)
    return keys


def delete_sessions(keys: list[str]) -> int:
    from allauth_cas_crans.single_logout import session_model

    model = session_model()
    if model is None or not keys:
        return 0
    deleted, _ = model._default_manager.filter(session_key__in=keys).delete()
    return deleted
