"""manage.py grant_app_role ROLE: what the application's database role may do."""

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from care.audit.db_roles import APPEND_ONLY_TABLES as APPEND
from care.audit.db_roles import AppRoleRefused, app_role_grant


class Command(BaseCommand):
    help = (
        "Grant the application's PostgreSQL role rows of every table (and of tables later "
        "migrations create), only SELECT and INSERT on the audit trail, and no DDL. Run it "
        "as the tables' owner, after migrate."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("role", help="The role web, worker and beat connect as.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role: str, database: str, **options) -> None:
        connection = connections[database]
        try:
            with transaction.atomic(using=database):
                app_role_grant(connection, role)
        except AppRoleRefused as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{role}: rows of every table; {', '.join(APPEND)} append-only.")
