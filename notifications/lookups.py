"""A lookup for the dispatcher's batches: `field__any_of=[...]`."""

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import Lookup


class AnyOf(Lookup):
    """The field's value is one of the given values (already of the column's type).

    Like `__in`, but the values travel as one array (`= ANY(%s)`), sparing a placeholder
    per value to build and fill in for a batch of hundreds of keys.
    """

    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self) -> list:
        return [value for value in self.rhs if value is not None]

    def as_sql(self, compiler, connection) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if not self.rhs:
            raise EmptyResultSet
        return f"{lhs} = ANY(%s)", (*lhs_params, self.rhs)
