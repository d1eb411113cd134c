"""Statements compiled once per process, for the few that every new lead runs.

The ORM compiles a queryset again on every call, and on intake that costs several
times the statement itself (``bench.ingest_cpu``: the API-key lookup takes 0.69 ms of
CPU through the ORM and 0.09 ms as its SQL by hand). Here the SQL text is built from
the models' own metadata once per process, so it follows a renamed column or a new
field, and rows come back as model instances through the same converters the ORM
applies (SQLite's dates, JSON decoding). Only the hot path uses this; everything else
keeps the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model
from django.db.models.base import ModelState


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    return quote(model._meta.db_table)


@cache
def _columns(model: type[Model], vendor: str) -> tuple[tuple[str, ...], tuple, tuple]:
    """The model's concrete fields: attnames, quoted columns, and the converters of those
    that have any, as ``(index, col, funcs)``."""
    fields = model._meta.concrete_fields
    converters = []
    for i, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if funcs:
            converters.append((i, col, tuple(funcs)))
    return (
        tuple(f.attname for f in fields),
        tuple(quote(f.column) for f in fields),
        tuple(converters),
    )


def select_list(model: type[Model], alias: str) -> str:
    """``"alias"."col", ...`` for every concrete field of ``model``, in the model's order."""
    _names, columns, _conv = _columns(model, connection.vendor)
    prefix = quote(alias)
    return ", ".join(f"{prefix}.{column}" for column in columns)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def instance(model: type[Model], row: Sequence[Any], start: int = 0) -> Model:
    """The model instance of ``row[start:start + width(model)]`` (a ``select_list``).

    What ``Model.from_db`` makes, for a model with every concrete field loaded and no
    ``__init__`` of its own, without running ``__init__``: its per-field descriptors
    and init signals were a tenth of a new lead's CPU (a team's rotation is read as
    three instances per member). Only ImageField listens to those signals; the models
    read here have none.
    """
    db = connections[DEFAULT_DB_ALIAS]
    names, _columns_, converters = _columns(model, db.vendor)
    values = row[start:start + len(names)]
    if converters:
        values = list(values)
        for i, col, funcs in converters:
            for func in funcs:
                values[i] = func(values[i], col, db)
    obj = model.__new__(model)
    state = obj._state = ModelState()
    state.adding = False
    state.db = db.alias
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


def new(model: type[Model], values: dict[str, Any], related: dict[str, Model | None]) -> Model:
    """An unsaved ``model(**kwargs)`` without ``Model.__init__``, for paths that build
    thousands (the sweep's history events: their ``__init__`` was a tenth of its time).

    ``values`` by attname and ``related`` objects by field name must name every concrete
    field but the automatic id, as ``__init__`` would otherwise fill defaults in; a related
    object sets its ``<name>_id`` and is kept as ``model(<name>=obj)`` keeps it.
    """
    names = _new_names(model)
    given = values.keys() | {model._meta.get_field(n).attname for n in related}
    if given != names:
        raise TypeError(f"{model.__name__}: give exactly {sorted(names)}, not {sorted(given)}")
    obj = model.__new__(model)
    obj._state = ModelState()
    obj.__dict__[model._meta.pk.attname] = None
    obj.__dict__.update(values)
    for name, rel in related.items():
        field = model._meta.get_field(name)
        obj.__dict__[field.attname] = None if rel is None else rel.pk
        if rel is not None:
            field.set_cached_value(obj, rel)
    return obj


@cache
def _new_names(model: type[Model]) -> frozenset[str]:
    meta = model._meta
    return frozenset(f.attname for f in meta.concrete_fields if f is not meta.auto_field)


def cache_related(obj: Model, field_name: str, related: Model) -> None:
    """``obj.<field_name> = related`` for a just-read ``obj`` (as ``select_related`` fills
    its cache), without the descriptor's checks."""
    type(obj)._meta.get_field(field_name).set_cached_value(obj, related)


def fetch(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence[Any] = ()) -> int:
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def for_update() -> str:
    """`` FOR UPDATE`` where the database takes row locks (SQLite locks the whole file)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


# Values the database driver takes as they are: for these Django's preparation returns
# the value unchanged, and skipping it was most of the INSERT's cost. Texts by instance
# (a TextChoices member is a str, and Django passes it on as it is), the rest by exact
# type (True is an int, and an integer column refuses it unconverted).
_TEXT = ("CharField", "EmailField", "SlugField", "TextField")
_EXACT = {"BooleanField": bool, "IntegerField": int, "PositiveIntegerField": int,
          "BigIntegerField": int, "SmallIntegerField": int}
_INTEGER_KEYS = ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField")


def _as_is(field, vendor: str):
    """A test of whether ``value`` goes to the driver unprepared, or None for always prepare."""
    kind = field.get_internal_type()
    if kind == "ForeignKey" and field.target_field.get_internal_type() in _INTEGER_KEYS:
        kind = "IntegerField"
    if kind in _TEXT:
        test = lambda value: isinstance(value, str)  # noqa: E731
    elif kind in _EXACT:
        exact = _EXACT[kind]
        test = lambda value: type(value) is exact  # noqa: E731
    elif kind == "DateTimeField" and vendor == "postgresql":
        # An aware datetime is what PostgreSQL's adaptation returns unchanged.
        test = lambda value: type(value) is datetime and value.tzinfo is not None  # noqa: E731
    else:
        return None
    if field.null:
        return lambda value: value is None or test(value)
    return test


@cache
def _insert_statement(model: type[Model], vendor: str) -> tuple[str, tuple]:
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if f is not meta.auto_field)
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {quote(meta.auto_field.column)}"
    return sql, tuple((field, _as_is(field, vendor)) for field in fields)


def insert(obj: Model) -> Model:
    """``obj.save(force_insert=True)`` without compiling the INSERT again: the same values
    (each field's ``pre_save`` and database preparation), the new id set on ``obj``.

    No ``pre_save``/``post_save`` signals: use it only for models nothing listens to.
    """
    db = connections[DEFAULT_DB_ALIAS]
    model = type(obj)
    sql, plan = _insert_statement(model, db.vendor)
    params = []
    for field, as_is in plan:
        value = field.pre_save(obj, True)
        if as_is is None or not as_is(value):
            value = field.get_db_prep_save(value, db)
        params.append(value)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        if db.features.can_return_columns_from_insert:
            pk = cursor.fetchone()[0]
        else:
            pk = db.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = db.alias
    return obj
