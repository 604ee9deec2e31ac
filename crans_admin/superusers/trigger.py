"""The database keeps an active superuser, whatever path writes the users' table.

The ``pre_save``/``pre_delete`` guard (:mod:`.guard`) refuses with a clear
message, and its row locks last until the end of the caller's transaction:
the admin's, the commands', a deletion's. But Django sends ``pre_save``
before, and outside, the write: a save in autocommit (a shell, a view
without a transaction) releases the lock before its UPDATE, and
``QuerySet.update()`` or SQL never reach the guard. Two such revocations at
once would each see the other's superuser still there, and leave none.

So the database checks too, once the write is done, under a lock held until
the transaction ends:

- PostgreSQL: a constraint trigger, deferred to the commit, on each UPDATE
  that takes superuser status or activity from an active superuser and each
  DELETE of one. It takes a transaction-level advisory lock (one such commit
  at a time), then checks that an active superuser remains; if none does,
  the transaction fails (``IntegrityError``) and nothing of it is kept. The
  next transaction waiting for the lock then sees what the first committed.
- SQLite: a trigger after each such UPDATE (SQLite has one writer at a time;
  a deletion goes through the guard in the deletion's own transaction).
  ``flush`` still empties the table.

Installed after each ``migrate`` (``post_migrate``), idempotently, so that a
table rebuilt by a later migration gets it back. Other databases: the guard
alone.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import DEFAULT_DB_ALIAS, connections

NAME = "crans_admin_keep_a_superuser"
# pg_advisory_xact_lock's key: any constant of the bundle's own.
LOCK_KEY = 0x63_72_61_6E_73  # "crans"
MESSAGE = (
    "crans_admin: no active superuser would remain; grant superuser status to another "
    "user first (nothing was changed)"
)


def install_superuser_trigger(using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """Create (or replace) the trigger on the users' table of the database ``using``."""
    connection = connections[using]
    User = get_user_model()
    table = User._meta.db_table
    if table not in connection.introspection.table_names():
        return
    quote = connection.ops.quote_name
    names = {
        "table": quote(table),
        "superuser": quote(User._meta.get_field("is_superuser").column),
        "active": quote(User._meta.get_field("is_active").column),
        "name": NAME,
        "key": LOCK_KEY,
        "message": MESSAGE,
    }
    if connection.vendor == "postgresql":
        statements = POSTGRESQL
    elif connection.vendor == "sqlite":
        statements = SQLITE
    else:
        return
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.format(**names))


def install_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """``post_migrate`` receiver."""
    install_superuser_trigger(using)


POSTGRESQL = [
    """
    CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock({key});
        IF NOT EXISTS (SELECT 1 FROM {table} WHERE {superuser} AND {active}) THEN
            RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS {name}_update ON {table}",
    """
    CREATE CONSTRAINT TRIGGER {name}_update
    AFTER UPDATE OF {superuser}, {active} ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.{superuser} AND OLD.{active} AND NOT (NEW.{superuser} AND NEW.{active}))
    EXECUTE FUNCTION {name}()
    """,
    "DROP TRIGGER IF EXISTS {name}_delete ON {table}",
    """
    CREATE CONSTRAINT TRIGGER {name}_delete
    AFTER DELETE ON {table}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
    WHEN (OLD.{superuser} AND OLD.{active})
    EXECUTE FUNCTION {name}()
    """,
]

SQLITE = [
    "DROP TRIGGER IF EXISTS {name}_update",
    """
    CREATE TRIGGER {name}_update
    AFTER UPDATE OF {superuser}, {active} ON {table}
    FOR EACH ROW
    WHEN OLD.{superuser} AND OLD.{active} AND NOT (NEW.{superuser} AND NEW.{active})
    BEGIN
        SELECT RAISE(ABORT, '{message}')
        WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE {superuser} AND {active});
    END
    """,
]
