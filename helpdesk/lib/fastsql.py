"""Statements on the ingest hot path, with their SQL built once per process.

Building a statement through the ORM (a queryset, a compiler, its expressions) costs
0.1-0.4 ms of Python each time; ingest runs the same few statements for every message,
and with several lanes sharing one interpreter that time is the throughput limit. These
helpers keep Django's own SQL and value conversions (each statement is compiled by the
ORM once, and every value still goes through its field's get_db_prep_save) and return
ordinary model instances; they skip only the rebuilding.

They send no model signals: use them only for models no receiver watches (the config
caches watch mailboxes and SLA settings, never these). Off PostgreSQL they fall back to
the plain ORM.

Only the paths a benchmark measures use them; every other write stays on the ORM:
- ingest, per message (channels_app/ingest.py, and the services it calls for every
  message: identity_resolve, the new ticket's INSERT, its `created` event);
- the SLA recompute that follows every customer message (tickets/sla/services.py).
Measured per call on the 2-core development machine, best of 15 x 200 (under load, so
the spread is wide): the identity lookup 0.8 ms with the ORM's get(), 0.2-0.5 ms here; a
new customer with its identity 0.6 vs 0.24-0.47 ms; a ticket INSERT 0.38 vs 0.28 ms; an
event INSERT 0.34-0.5 vs 0.22 ms. Over the ten-odd statements of a message that is most
of the gap between the ORM's 127-149 messages/s on one ingest thread and today's 251 on
three (docs/email.md), where Python CPU per message is the limit.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connections, router
from django.db.models import Field, Model, QuerySet
from django.db.models.sql import InsertQuery

M = TypeVar("M", bound=Model)

_inserts: dict[tuple[type[Model], str, bool], tuple[str, list["Field[Any, Any]"]]] = {}
_many: dict[tuple[type[Model], str, int], str] = {}
_updates: dict[tuple[type[Model], str, tuple[str, ...]], tuple[str, list["Field[Any, Any]"]]] = {}
_Converters = list[tuple[int, list[Any], Any]]
_selects: dict[tuple[type[Model], str, str, str, bool, bool], tuple[str, _Converters]] = {}


def insert(obj: M) -> M:
    """INSERT obj as obj.save(force_insert=True) would (auto_now/auto_now_add filled, the
    primary key read back when the database makes it); returns obj."""
    model = type(obj)
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    if connection.vendor != "postgresql":
        obj.save(force_insert=True, using=using)
        return obj
    meta = model._meta
    # An unsaved related object is an error, as in save(); a set one fills its id.
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    with_pk = obj.pk is not None
    key = (model, using, with_pk)
    built = _inserts.get(key)
    if built is None:
        fields = [f for f in meta.local_concrete_fields if with_pk or not f.primary_key]
        query = InsertQuery(model)
        query.insert_values(fields, [obj])
        compiler = query.get_compiler(using=using)
        if not with_pk:
            compiler.returning_fields = [meta.pk]
        sql, _ = compiler.as_sql()[0]
        built = _inserts[key] = (sql, fields)
    sql, fields = built
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if not with_pk:
            obj.pk = cursor.fetchone()[0]  # an auto field: no converter
    obj._state.adding = False
    obj._state.db = using
    return obj


def insert_many(objs: list[M]) -> list[M]:
    """INSERT several new objects of one model in one statement (as bulk_create, their
    keys read back); returns them."""
    if not objs:
        return objs
    model = type(objs[0])
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    if connection.vendor != "postgresql" or any(obj.pk is not None for obj in objs):
        return model._default_manager.using(using).bulk_create(objs)
    meta = model._meta
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="bulk_create")  # type: ignore[attr-defined]
    fields = [f for f in meta.local_concrete_fields if not f.primary_key]
    if any(hasattr(f, "get_placeholder") for f in fields):
        return model._default_manager.using(using).bulk_create(objs)
    key = (model, using, len(objs))
    sql = _many.get(key)
    if sql is None:
        qn = connection.ops.quote_name
        row = f"({', '.join(['%s'] * len(fields))})"
        # Table and column names from the model; every value is a parameter.
        sql = _many[key] = (
            f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([row] * len(objs))} RETURNING {qn(meta.pk.column)}"
        )
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        keys = cursor.fetchall()
    # RETURNING lists the rows in VALUES order (bulk_create relies on it too).
    for obj, (pk,) in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
    return objs


def update(obj: Model, fields: list[str]) -> None:
    """UPDATE obj's `fields` by primary key, as obj.save(update_fields=fields) would
    (auto_now fields among them are set to now). The row must exist."""
    model = type(obj)
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    if connection.vendor != "postgresql":
        obj.save(update_fields=fields, using=using)
        return
    meta = model._meta
    key = (model, using, tuple(fields))
    built = _updates.get(key)
    if built is None:
        targets: list[Any] = [meta.get_field(name) for name in fields]
        qn = connection.ops.quote_name
        assignments = ", ".join(f"{qn(f.column)} = %s" for f in targets)
        # Table and column names from the model; every value is a parameter.
        sql = f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s"  # noqa: S608
        built = _updates[key] = (sql, targets)
    sql, targets = built
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in targets]
    params.append(meta.pk.get_db_prep_value(obj.pk, connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def select_one(
    model: type[M], *, where: str, params: list[Any], related: str = "", lock: bool = False
) -> M | None:
    """The one row of `model` matching `where` (SQL over the table's columns, aliased
    "t"), with its `related` foreign key's row attached as select_related would, or None.
    `lock` reads it FOR UPDATE (of the main row only)."""
    rows = _select(model, where=where, params=params, related=related, lock=lock, one=True)
    return rows[0] if rows else None


def select_all(model: type[M], *, where: str, params: list[Any], lock: bool = False) -> list[M]:
    """Every row of `model` matching `where` (as select_one), in no particular order."""
    return _select(model, where=where, params=params, related="", lock=lock, one=False)


def _select(
    model: type[M], *, where: str, params: list[Any], related: str, lock: bool, one: bool
) -> list[M]:
    using = router.db_for_read(model)
    connection = connections[using]
    key = (model, using, where, related, lock, one)
    built = _selects.get(key)
    if built is None:
        qn = connection.ops.quote_name
        meta = model._meta
        fields = [("t", f) for f in meta.concrete_fields]
        join = ""
        if related:
            fk: Any = meta.get_field(related)
            rel_meta = fk.related_model._meta
            fields += [("r", f) for f in rel_meta.concrete_fields]
            join = (
                f" JOIN {qn(rel_meta.db_table)} r ON r.{qn(fk.target_field.column)}"
                f" = t.{qn(fk.column)}"
            )
        columns = ", ".join(f"{alias}.{qn(f.column)}" for alias, f in fields)
        # Names from the model, `where` a constant of the caller's: values are parameters.
        sql = f"SELECT {columns} FROM {qn(meta.db_table)} t{join} WHERE {where}"  # noqa: S608
        if lock and connection.features.has_select_for_update_of:
            sql += " FOR UPDATE OF t"
        elif lock and connection.features.has_select_for_update:
            sql += " FOR UPDATE"
        # The converters the ORM's iterator would apply (JSON decoding and the like).
        converters: _Converters = []
        for index, (alias, field) in enumerate(fields):
            col = field.get_col(alias)
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                converters.append((index, found, col))
        built = _selects[key] = (sql, converters)
    sql, converters = built
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [cursor.fetchone()] if one else cursor.fetchall()
    meta = model._meta
    width = len(meta.concrete_fields)
    names = [f.attname for f in meta.concrete_fields]
    objs = []
    for row in rows:
        if row is None:
            continue
        values = list(row)
        for index, found, col in converters:
            for convert in found:
                values[index] = convert(values[index], col, connection)
        obj = model.from_db(using, names, values[:width])
        if related:
            rel_fk: Any = meta.get_field(related)
            rel_model = rel_fk.related_model
            rel_names = [f.attname for f in rel_model._meta.concrete_fields]
            rel_fk.set_cached_value(obj, rel_model.from_db(using, rel_names, values[width:]))
        objs.append(obj)
    return objs


# Stands for the one argument of a values_first() statement while it is compiled.
_ARG = -7_340_041
_values: dict[tuple[str, str], tuple[str, list[Any]]] = {}


def values_first(
    model: type[Model], name: str, build: Callable[[int], QuerySet[Any]], arg: int
) -> tuple[Any, ...] | None:
    """The first row of build(arg), a values_list() queryset over `model` of plain
    columns (no conversions) taking one integer argument (a user's id): its SQL is built
    and compiled once per process and database under `name`, not on every call. None
    when there is no row."""
    using = router.db_for_read(model)
    connection = connections[using]
    if connection.vendor != "postgresql":
        return build(arg).first()
    key = (name, using)
    built = _values.get(key)
    if built is None:
        compiled, compiled_params = build(_ARG)[:1].query.sql_with_params()
        if list(compiled_params).count(_ARG) != 1:
            raise ValueError(f"{name}: the argument must appear once in the statement")
        built = _values[key] = (compiled, list(compiled_params))
    sql, params = built
    with connection.cursor() as cursor:
        cursor.execute(sql, [arg if p == _ARG else p for p in params])
        row = cursor.fetchone()
    return tuple(row) if row is not None else None
