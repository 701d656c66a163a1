"""Whole rows of several tables read in one SQL statement, as model instances.

The user with their roles, read by every signed-in request (``ocop.accounts.backends``),
and the scoresheet's hot paths (the page, the autosave and its locked read) need a handful of
one-row lookups — session, membership, agenda item, dossier, sheet, its entries and star
bands. Through the ORM that is one query each, or one ``select_related`` query whose
compilation costs more than its execution. A :class:`Statement` is written once per
process from the models' metadata (every concrete column, so the instances are complete:
no deferred field can cost a query later) and run as a **prepared statement**: with a
dozen joins PostgreSQL spends several times longer planning the statement than running
it, so each database connection prepares it once (``PREPARE``, not transactional, kept
for the life of the connection) and then only ``EXECUTE``\\ s it. Other databases (the
embedded SQLite of ``make run``) run the statement as it is, and so does PostgreSQL when
the setting ``OCOP_PREPARED_STATEMENTS`` is off (``0`` in the environment: behind a
connection pooler in transaction mode, whose server connections change under a client and
would not know the statement — docs/performance.md).

``Statement.run`` returns ``({alias: instance or None}, [extra values])`` of the first row
(``run_all``: a list of them): ``None`` for an
outer join without a row. The instances carry the ORM's database converters (JSON decoded,
…) exactly as a queryset would; related instances are attached by the caller.
"""

import hashlib
import re
import weakref
from collections import OrderedDict
from threading import Lock

from django.conf import settings
from django.db import connection

_PARAM = re.compile(r"%\((\w+)\)s")


class Columns:
    """Every concrete column of ``model`` under the SQL alias ``alias``, and the instance
    back from a row."""

    def __init__(self, model, alias):
        fields = model._meta.concrete_fields
        self.model = model
        self.names = [f.attname for f in fields]
        self.sql = ", ".join(f'{alias}."{f.column}"' for f in fields)
        self.converters = []
        for index, field in enumerate(fields):
            col = field.get_col(alias)
            found = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
            if found:
                self.converters.append((index, col, found))

    def __len__(self):
        return len(self.names)

    def build(self, row, start):
        """The instance read from ``row[start:]``, or ``None`` (outer join, no row)."""
        values = row[start:start + len(self.names)]
        if values[0] is None:
            return None
        if self.converters:
            values = list(values)
            for index, col, converters in self.converters:
                for converter in converters:
                    values[index] = converter(values[index], col, connection)
        return self.model.from_db(connection.alias, self.names, values)


class Statement:
    """``SELECT <whole rows of tables>, <extra> <tail>``; ``extra`` and ``tail`` name
    their parameters ``%(name)s`` and ``types`` gives their SQL types."""

    def __init__(self, name, tables, extra, tail, types):
        self.name = f"ocop_{name}"
        self.tables = [(alias, Columns(model, alias)) for alias, model in tables]
        self.sql = (f"SELECT {', '.join(cols.sql for _alias, cols in self.tables)}"
                    f"{''.join(', ' + e for e in extra)} {tail}")
        self.params = list(dict.fromkeys(_PARAM.findall(self.sql)))
        numbers = {name: f"${n}" for n, name in enumerate(self.params, 1)}
        body = _PARAM.sub(lambda m: numbers[m.group(1)], self.sql)
        self.prepare = (f"PREPARE {self.name}({', '.join(types[p] for p in self.params)}) "
                        f"AS {body}")
        self.execute = f"EXECUTE {self.name}({', '.join(['%s'] * len(self.params))})"
        self.prepared = weakref.WeakSet()  # the DB-API connections that prepared it
        self.lock = Lock()

    def _execute(self, cursor, params):
        if connection.vendor != "postgresql" or not settings.OCOP_PREPARED_STATEMENTS:
            cursor.execute(self.sql, {p: params[p] for p in self.params})  # no PREPARE
            return
        raw = connection.connection
        if raw not in self.prepared:
            # once per connection, on the driver's own cursor: not a query of the request
            # (the pinned query counts do not depend on which request came first)
            with raw.cursor() as prepare:
                prepare.execute(self.prepare)
            with self.lock:
                self.prepared.add(raw)
        cursor.execute(self.execute, [params[p] for p in self.params])

    def _build(self, row):
        found, start = {}, 0
        for alias, cols in self.tables:
            found[alias] = cols.build(row, start)
            start += len(cols)
        return found, list(row[start:])

    def run(self, params):
        """The first row, or None."""
        with connection.cursor() as cursor:
            self._execute(cursor, params)
            row = cursor.fetchone()
        return None if row is None else self._build(row)

    def run_all(self, params):
        """Every row, in the statement's order."""
        with connection.cursor() as cursor:
            self._execute(cursor, params)
            rows = cursor.fetchall()
        return [self._build(row) for row in rows]


_STATEMENTS = {}
_LOCK = Lock()


def statement(name, build):
    """The :class:`Statement` ``build()`` returns, built once per process."""
    found = _STATEMENTS.get(name)
    if found is None:
        with _LOCK:
            found = _STATEMENTS.get(name)
            if found is None:
                found = _STATEMENTS[name] = build()
    return found


#: per DB-API connection: the texts prepared by :func:`execute` → their names, oldest first
_PREPARED = weakref.WeakKeyDictionary()
_PREPARED_PER_CONNECTION = 64
_PLACEHOLDER = re.compile(r"%[s%]")


def _numbered(sql):
    """``sql`` with the ORM's ``%s`` placeholders numbered ``$1, $2, …`` (and ``%%`` back
    to ``%``): the text of a ``PREPARE``."""
    count = 0

    def number(match):
        nonlocal count
        if match.group() == "%%":
            return "%"
        count += 1
        return f"${count}"

    return _PLACEHOLDER.sub(number, sql), count


def execute(cursor, sql, params):
    """``cursor.execute(sql, params)`` — ``sql`` as the ORM writes it, e.g. a compiled
    queryset inside a larger statement — run as a prepared statement on PostgreSQL: each
    connection prepares a text the first time it runs it (keeping the last
    ``_PREPARED_PER_CONNECTION`` texts), then only executes it. For a statement whose
    planning costs more than its execution and whose text repeats: the dossier list, whose
    text changes only with the combination of filters and the shape of the user's area
    (docs/performance.md). PostgreSQL infers the parameters' types from where they are
    used."""
    if connection.vendor != "postgresql" or not settings.OCOP_PREPARED_STATEMENTS:
        cursor.execute(sql, params)
        return
    raw = connection.connection
    with _LOCK:
        prepared = _PREPARED.get(raw)
        if prepared is None:
            prepared = _PREPARED[raw] = OrderedDict()
    # a connection is used by one thread at a time: ``prepared`` is this thread's
    name = prepared.get(sql)
    if name is None:
        name = "ocop_q_" + hashlib.md5(sql.encode(), usedforsecurity=False).hexdigest()
        body, count = _numbered(sql)
        # on the driver's own cursor, as Statement does: not a query of the request
        with raw.cursor() as prepare:
            prepare.execute(f"PREPARE {name} AS {body}")
            prepared[sql] = name
            while len(prepared) > _PREPARED_PER_CONNECTION:
                prepare.execute(f"DEALLOCATE {prepared.popitem(last=False)[1]}")
    else:
        prepared.move_to_end(sql)
    cursor.execute(f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params
                   else f"EXECUTE {name}", params)
