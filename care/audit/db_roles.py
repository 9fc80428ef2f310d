"""The database role the application connects as: what it may do, granted by the owner.

On PostgreSQL the owner of a table can step around its triggers (`ALTER TABLE … DISABLE
TRIGGER`, `SET session_replication_role = replica` as a superuser), so the audit trail is
append-only only against roles that neither own it nor are superusers. Migrations run as
the owner; the web, worker and beat processes connect as a role that owns nothing and holds
only the grants below: reading and writing rows of every table, reading and appending to
`care_auditevent`, and no DDL.
"""

import re

from django.db.backends.base.base import BaseDatabaseWrapper

from care.models import AuditEvent

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
APPEND_ONLY_TABLES = (AuditEvent._meta.db_table,)


class AppRoleRefused(Exception):
    """The role cannot be the application's: it is unknown, or it could alter the tables."""


def app_role_problem(connection: BaseDatabaseWrapper, role: str) -> str | None:
    """Why `role` may not be the application's role, or None."""
    if not ROLE_NAME.fullmatch(role):
        return f"{role!r} is not a role name (lower-case letters, digits and _)."
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolbypassrls FROM pg_roles WHERE rolname = %s",
            [role],
        )
        row = cursor.fetchone()
        if row is None:
            return f"There is no role {role}: create it first (CREATE ROLE {role} LOGIN)."
        superuser, createrole, bypassrls = row
        if superuser:
            return f"{role} is a superuser: it could step around the audit trail's triggers."
        if createrole:
            # On PostgreSQL 15 and earlier CREATEROLE may grant itself any role, the owner's too.
            return f"{role} has CREATEROLE: it could make itself a member of the tables' owner."
        if bypassrls:
            return f"{role} has BYPASSRLS: it would read past any row-level security policy."
        # Owning a table, or being able to act as a role that owns one, allows ALTER TABLE.
        # 'MEMBER', not 'USAGE': a NOINHERIT member holds none of the owner's privileges
        # but may still SET ROLE to it.
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            " AND pg_has_role(%s, tableowner, 'MEMBER') ORDER BY tablename LIMIT 1",
            [role],
        )
        owned = cursor.fetchone()
    if owned is not None:
        return f"{role} owns (or acts as the owner of) {owned[0]}: use a role that owns nothing."
    return None


def app_role_grant(connection: BaseDatabaseWrapper, role: str) -> None:
    """Grant `role` rows of every table (now and, by default privileges, later), no more.

    Run as the owner of the tables (the role that runs migrations), after migrating: the
    default privileges apply to the tables that role creates from then on. On the
    append-only tables the role may only SELECT and INSERT.
    """
    problem = app_role_problem(connection, role)
    if problem:
        raise AppRoleRefused(problem)
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = quote(cursor.fetchone()[0])
        to = quote(role)
        statements = [
            f"GRANT USAGE ON SCHEMA {schema} TO {to}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {to}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {to}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
            f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {to}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {to}",
            *(
                f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {quote(table)} FROM {to}"
                for table in APPEND_ONLY_TABLES
            ),
        ]
        for sql in statements:
            cursor.execute(sql)
