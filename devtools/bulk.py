"""Fast inserts of many plain rows into one model's table, for building large data sets.

    writer = RowWriter(CheckIn, ["patient_id", "local_date", "mood", ...])
    writer.write(rows)  # rows: mappings of those names to Python values

Each value is stored as the ORM would store it: it goes through its field's
`get_db_prep_save`, and the columns a row leaves out get the field's default, as in
`CheckIn(**row)` (a fresh value per row for a callable default such as `uuid.uuid4`; the
time of the `write` for `auto_now`/`auto_now_add`). The rows go through one
`COPY ... FROM STDIN`, each value in the text form psycopg gives it. Rows are consumed as
they are written, so an iterator of rows keeps memory flat.

Unlike `bulk_create`: no model instances, so no `save()`, signals or validation, and no
primary keys come back (read them back by a natural key if they are needed). A write can
be split in two: `encode` (the Python work) and `send` (the database's), which may run in
a thread while the caller makes the next rows.

Most of the cost of a row is in converting its values, and big data sets repeat values a
lot (a mood of 5, an empty list, the same evening). So each column remembers what it made
of the values it has seen, keyed by type and exact value (lists and dicts by their contents;
other kinds of values are converted each time). A column whose values hardly repeat
(uuids, free text) soon stops remembering, and long lists and dicts are not remembered.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from itertools import batched, repeat
from operator import attrgetter, is_, itemgetter
from typing import Any
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import NOT_PROVIDED, AutoField, Field, Model
from django.utils import timezone
from psycopg.adapt import PyFormat, Transformer

# A column remembers this many values, then starts afresh if, on average, each was seen
# again, and stops remembering if not; one that saw none of its first PROBE values again
# (fresh ids) stops at once.
MEMO_LIMIT = 100_000
PROBE = 5_000
# Lists and dicts longer than this are not remembered: a payload seldom repeats.
SHORT = 4
# Rows per block of COPY data.
BATCH = 2_000


class RowWriter:
    """Writes rows of one model: `fields` are the names (or attnames) the rows carry."""

    def __init__(
        self, model: type[Model], fields: Sequence[str], *, using: str = DEFAULT_DB_ALIAS
    ) -> None:
        self.connection = connections[using]
        meta = model._meta
        if not fields:
            raise ValueError("RowWriter needs at least one field.")
        given = [meta.get_field(name) for name in fields]
        for field in given:
            if not field.concrete or field.many_to_many or field.generated:
                raise ValueError(f"{meta.label}.{field.name} is not a stored column.")
            if hasattr(field, "get_placeholder"):
                raise ValueError(f"{meta.label}.{field.name} needs SQL around its value.")
        rest = [
            field
            for field in meta.concrete_fields
            if field not in given
            and not field.generated
            and not isinstance(field, AutoField)
            and field.db_default is NOT_PROVIDED
        ]
        # Of the others, those with a callable default get a value per row (uuid4), the rest
        # one per write: a constant, or the time for auto_now and auto_now_add.
        per_row = [
            f for f in rest if not _is_auto_now(f) and f.has_default() and callable(f.default)
        ]
        once = [f for f in rest if f not in per_row]
        self.names = tuple(fields)
        self._get = itemgetter(*fields) if len(fields) > 1 else lambda row: (row[fields[0]],)
        self._defaults = [_default(field) for field in given]
        self._columns = [_Column(field, self.connection) for field in given]
        self._per_row = [(f.get_default, _Column(f, self.connection)) for f in per_row]
        self._once = [(_default(f), _Column(f, self.connection)) for f in once]
        quote = self.connection.ops.quote_name
        table = quote(meta.db_table)
        columns = ", ".join(quote(field.column) for field in given + per_row + once)
        self.sql = f"COPY {table} ({columns}) FROM STDIN"

    def write(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Insert the rows (in the current transaction, if any); returns how many."""
        return self.send(self._blocks(rows))

    def encode(self, rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, int]]:
        """The rows converted for the database, in blocks: all of a write but the sending."""
        return list(self._blocks(rows))

    def send(self, blocks: Iterable[tuple[Any, int]]) -> int:
        """Insert rows in blocks from `encode`; returns how many.

        This uses only the driver's connection (the COPY), so it may run in another
        thread, if this one keeps off the database until it is done; the driver waits for
        the server without holding the GIL.
        """
        connection = self.connection
        connection.validate_no_broken_transaction()
        count = 0
        with (
            connection.wrap_database_errors,
            connection.connection.cursor() as cursor,
            cursor.copy(self.sql) as copy,
        ):
            for block, rows in blocks:
                copy.write(block)
                count += rows
        return count

    def _blocks(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[Any, int]]:
        """(COPY data, number of rows) for the rows."""
        self.connection.ensure_connection()
        transformer = Transformer.from_context(self.connection.connection)
        for column in self._columns + [c for _, c in self._per_row + self._once]:
            column.transformer = transformer
        for batch in self._batches(rows):
            yield b"\n".join(map(b"\t".join, batch)) + b"\n", len(batch)

    def _batches(self, rows: Iterable[Mapping[str, Any]]) -> Iterator[list[tuple]]:
        """The rows in batches, each as its converted values (COPY text)."""
        once = [column(default()) for default, column in self._once]
        # Column by column: a row costs the conversion of its values and little else.
        for batch in batched(rows, BATCH):
            try:
                values = list(map(self._get, batch))
            except KeyError:
                values = [self._values(row) for row in batch]
            by_column = zip(*values, strict=True)
            cells = [column.many(v) for column, v in zip(self._columns, by_column, strict=True)]
            cells += [[column(default()) for _ in batch] for default, column in self._per_row]
            cells += [repeat(cell) for cell in once]
            yield list(zip(*cells, strict=False))  # (repeat() has no end)

    def _values(self, row: Mapping[str, Any]) -> list:
        """The row's values of `fields`, with the field's default for those it leaves out."""
        return [
            row[name] if name in row else default()
            for name, default in zip(self.names, self._defaults, strict=True)
        ]


class _Column:
    """Converts one column's values, remembering the results while that pays."""

    def __init__(self, field: Field, connection) -> None:
        self.field, self.connection = field, connection
        self.transformer = None  # psycopg's, set for each COPY
        # Per class of value: how to key it (None: the value itself) and what was made of it.
        self.memo: dict[type, tuple[Callable | None, dict]] = {}
        self.size = self.hits = 0
        self.remembers = True

    def many(self, values: Sequence) -> list:
        """The values converted, as calling the column on each would, but faster: values
        of one kind are looked up all at once (the loops run in C)."""
        kinds = set(map(type, values))
        if self.remembers and len(kinds) == 1:
            kind = kinds.pop()
            known = self.memo.get(kind)
            keys = _keys(kind, values) if known else None
            if keys is not None:
                converted = list(map(known[1].get, keys, repeat(_MISSING)))
                missed = []
                if any(map(is_, converted, repeat(_MISSING))):
                    missed = [i for i, value in enumerate(converted) if value is _MISSING]
                    for i in missed:
                        converted[i] = self(values[i])
                self.hits += len(converted) - len(missed)
                return converted
        return list(map(self, values))

    def __call__(self, value: Any) -> Any:
        try:
            key_of, made = self.memo[value.__class__]
            converted = made[value if key_of is None else key_of(value)]
        except KeyError:
            return self._first(value)
        except TypeError:  # inside a list or dict: a kind of value that is not remembered
            return self.convert(value)
        self.hits += 1
        return converted

    def _first(self, value: Any) -> Any:
        converted = self.convert(value)
        if not self.remembers or value.__class__ not in KEYS:
            return converted
        key_of = KEYS[value.__class__]
        try:
            key = value if key_of is None else key_of(value)
        except TypeError:
            return converted
        self.memo.setdefault(value.__class__, (key_of, {}))[1][key] = converted
        self.size += 1
        if (self.size == PROBE and not self.hits) or self.size >= MEMO_LIMIT:
            self.remembers = self.hits >= self.size
            self.memo, self.size, self.hits = {}, 0, 0
        return converted

    def convert(self, value: Any) -> Any:
        prepared = self.field.get_db_prep_save(value, self.connection)
        if prepared is None:
            return b"\\N"
        text = bytes(self.transformer.get_dumper(prepared, PyFormat.TEXT).dump(prepared))
        # COPY's text format: backslash escapes for the separators.
        for char, escaped in COPY_ESCAPES:
            if char in text:
                text = text.replace(char, escaped)
        return text


_MISSING = object()
COPY_ESCAPES = ((b"\\", b"\\\\"), (b"\t", b"\\t"), (b"\n", b"\\n"), (b"\r", b"\\r"))


def _key(value: Any) -> Any:
    """A hashable stand-in for a value; TypeError for a kind of value not remembered."""
    try:
        key_of = KEYS[value.__class__]
    except KeyError:
        raise TypeError(value.__class__) from None
    return value if key_of is None else key_of(value)


def _keys(kind: type, values: Sequence) -> Sequence | None:
    """The keys of values all of one kind, or None if they must be keyed one by one."""
    key_of = KEYS[kind]
    if key_of is None or (kind is datetime and not any(map(attrgetter("fold"), values))):
        return values
    try:
        return list(map(key_of, values))
    except TypeError:  # a long list, or one holding a kind of value not remembered
        return None


def _list_key(value: list) -> tuple:
    if len(value) > SHORT:
        raise TypeError("long list")
    return tuple([(item.__class__, _key(item)) for item in value])


def _dict_key(value: dict) -> tuple:
    if len(value) > SHORT:
        raise TypeError("long dict")
    return tuple([(k.__class__, k, v.__class__, _key(v)) for k, v in value.items()])


# Kinds of values remembered, and their keys: equal only for values stored alike (None: the
# value itself). Not `==` alone: 0.0 == -0.0, Decimal("0.5") == Decimal("0.50"), and a
# datetime in a zone equals the one an hour later when the clocks go back (but for `fold`).
KEYS: dict[type, Callable[[Any], Any] | None] = {
    int: None,
    str: None,
    bool: None,
    type(None): None,
    date: None,
    UUID: None,
    datetime: lambda value: (value, value.fold) if value.fold else value,
    Decimal: str,
    float: repr,
    list: _list_key,
    dict: _dict_key,
}


def _default(field: Field) -> Callable[[], Any]:
    """The value a new model instance would hold when saved (auto_now: the time)."""
    return timezone.now if _is_auto_now(field) else field.get_default


def _is_auto_now(field: Field) -> bool:
    return getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
