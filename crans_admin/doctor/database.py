"""Check of the database: it answers, and every migration is applied."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..text import first_line
from .registry import Finding, check, error, ok, some


@check("database", gettext_lazy("Database reachable and migrated"))
def check_database(timeout: float) -> Finding:
    connection = connections[DEFAULT_DB_ALIAS]
    where = f"{connection.vendor} {connection.settings_dict.get('NAME')}"
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exception:
        return error(
            _("The database (%(where)s) cannot be used: %(error)s")
            % {"where": where, "error": first_line(exception)},
            _("Start the database server, or correct DATABASES (MAILMAN_WEB_DB_* variables)."),
        )
    if unapplied:
        names = [f"{migration.app_label}.{migration.name}" for migration, _backwards in unapplied]
        return error(
            _("The database (%(where)s) lacks %(count)d migration(s): %(names)s.")
            % {"where": where, "count": len(names), "names": some(names)},
            _("Run mailman-web migrate, then restart mailman-web."),
        )
    return ok(_("The database (%(where)s) answers; every migration is applied.") % {"where": where})
