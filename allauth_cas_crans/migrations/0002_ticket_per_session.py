"""One ServiceTicket row per (ticket, session), and the recorded tickets left in their sessions.

A ticket was recorded once, with the key of the session it opened; the
record now follows the session when its key changes, which needs the
session's data to carry the ticket. Sessions opened before get their
recorded tickets in their data here, their expiry untouched. Sessions that
are over, or that cannot be read, are left as they are.
"""

from collections import defaultdict
from importlib import import_module

from django.conf import settings
from django.core.cache import caches
from django.db import migrations, models
from django.utils import timezone

# allauth_cas_crans.single_logout.SESSION_KEY when this migration was written.
SESSION_KEY = "allauth_cas_crans_tickets"


def carry_tickets_into_sessions(apps, schema_editor):
    ServiceTicket = apps.get_model("allauth_cas_crans", "ServiceTicket")
    alias = schema_editor.connection.alias
    tickets_of = defaultdict(list)
    for ticket, key in (
        ServiceTicket.objects.using(alias)
        .order_by("created", "pk")
        .values_list("ticket", "session_key")
    ):
        tickets_of[key].append(ticket)
    if not tickets_of:
        return
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store_class, "get_model_class"):
        return  # an engine whose new keys cannot be followed anyway
    sessions = store_class.get_model_class()._default_manager.using(alias)
    for key, tickets in tickets_of.items():
        row = sessions.filter(session_key=key, expire_date__gt=timezone.now()).first()
        if row is None:
            continue
        store = store_class(session_key=key)
        data = store.decode(row.session_data)
        if not data:  # unreadable (another SECRET_KEY...): nothing to keep
            continue
        carried = data.get(SESSION_KEY)
        carried = dict(carried) if isinstance(carried, dict) else {}
        for ticket in tickets:
            carried.setdefault(ticket, None)
        data[SESSION_KEY] = carried
        sessions.filter(session_key=key).update(session_data=store.encode(data))
        # cached_db reads its cache first: the next request reads the row.
        cache_key = getattr(store, "cache_key", None)
        if cache_key is not None:
            caches[settings.SESSION_CACHE_ALIAS].delete(cache_key)


class Migration(migrations.Migration):
    dependencies = [
        ("allauth_cas_crans", "0001_initial"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="serviceticket",
            constraint=models.UniqueConstraint(
                fields=("ticket", "session_key"), name="allauth_cas_crans_ticket_session"
            ),
        ),
        migrations.AlterField(
            model_name="serviceticket",
            name="ticket",
            field=models.CharField(max_length=256),
        ),
        migrations.RunPython(carry_tickets_into_sessions, migrations.RunPython.noop),
    ]
