"""The SQL pieces the map's reads by label share (PostgreSQL): the filter's WHERE clause, the union of day and week
rows, temporary tables, and the labels of the paths read (groups are the rule language's, so paths are labelled in
Python and joined back); and the rollups' writer."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from django.db import connection

from campaigns.journeys.paths import Group, labeller

if TYPE_CHECKING:
    from campaigns.journeys.filters import JourneyFilter
    from campaigns.models import Site

# The sums by path of a long period are hashed in memory rather than spilled to disk (per statement, as the tally).
WORK_MEM = "SET LOCAL work_mem = '64MB'"
# A read of rollups (~100,000 rows for 90 days) is estimated above the JIT and parallel thresholds, and runs for
# less than compiling or starting workers takes (journeys_bench.py prints it).
SHORT_READ = "SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0"


def where_sql(*, site: Site, where: JourneyFilter, alias: str = "r", days: Sequence | None = None
              ) -> tuple[str, list]:
    """The filter's site, days and segment as a WHERE clause on `alias`; `days`: only these of the filter's days."""
    clauses = [f"{alias}.site_id = %s", f"{alias}.day >= %s", f"{alias}.day <= %s"]
    params: list = [site.id, where.start, where.end]
    if days is not None:
        clauses.append(f"{alias}.day = ANY(%s::date[])")
        params.append(list(days))
    for column, value in (("source", where.source), ("device", where.device), ("returning", where.returning)):
        if value is not None:
            clauses.append(f'{alias}."{column}" = %s')
            params.append(value)
    return " AND ".join(clauses), params


def rollup_where(*, site: Site, where: JourneyFilter, days: Sequence, column: str = "day") -> tuple[str, list]:
    """Rollup rows (alias `r`) of the filter's segment, NULL for "any", on these days (or weeks, by `column`)."""
    clauses, params = ["r.site_id = %s", f"r.{column} = ANY(%s::date[])"], [site.id, list(days)]
    for name in ("device", "source", "returning"):
        value = getattr(where, name)
        if value is None:
            clauses.append(f'r."{name}" IS NULL')
        else:
            clauses.append(f'r."{name}" = %s')
            params.append(value)
    return " AND ".join(clauses), params


def union_sql(parts: Sequence, fields: Sequence[str]) -> tuple[str, list]:
    """The querysets' rows of `fields` as one UNION ALL, and its parameters: day and week rows summed in one query."""
    inners = [rows.values(*fields).query.sql_with_params() for rows in parts]
    return (" UNION ALL ".join(f"({sql})" for sql, _params in inners),
            [param for _sql, params in inners for param in params])


def kept_paths_sql(columns: Sequence[str]) -> tuple[str, str]:
    """A session row's kept paths, those up to its first empty position (a later one may be filled out of order), in
    SQL over a row `r`: the number kept (a lateral `kept`, read as `k.kept`), and the select list of the positions,
    each empty beyond it."""
    kept = "CASE " + " ".join(f"WHEN r.{name} IS NULL THEN {n}" for n, name in enumerate(columns)) + \
        f" ELSE {len(columns)} END"
    return kept, ", ".join(f"CASE WHEN k.kept > {n} THEN r.{name} END AS {name}" for n, name in enumerate(columns))


def temp_table(cursor, name: str, definition: str, params: Sequence = ()) -> None:
    """A temporary table dropped at commit (and first, should the caller's transaction be still open)."""
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
    cursor.execute(f"CREATE TEMP TABLE {name} {definition}", params)


def labels_table(cursor, *, groups: Sequence[Group], paths_sql: str, params: Sequence = ()) -> None:
    """journey_labels (path, label): the label of each path `paths_sql` selects that is in a group (a path in no
    group is its own label, read with coalesce)."""
    grouped = []
    if groups:
        cursor.execute(paths_sql, params)
        label = labeller(groups=groups)
        grouped = [(path, label(path)) for (path,) in cursor.fetchall()]
        grouped = [(path, name) for path, name in grouped if name != path]
    temp_table(cursor, "journey_labels", "(path text PRIMARY KEY, label text) ON COMMIT DROP")
    cursor.execute("INSERT INTO journey_labels SELECT * FROM unnest(%s::text[], %s::text[])",
                   [[path for path, _name in grouped], [name for _path, name in grouped]])
    cursor.execute("ANALYZE journey_labels")


def rows_write(*, model, fields: Sequence[str], rows: Iterable[Sequence]) -> None:
    """Inserts `rows` (values of `fields`, JSON fields as JSON text) into `model`'s table: with COPY on PostgreSQL,
    which takes a day's rollup rows in a fraction of the time bulk_create spends quoting them."""
    if connection.vendor != "postgresql":
        json_fields = {field.attname for field in model._meta.concrete_fields
                       if field.get_internal_type() == "JSONField"}
        model.objects.bulk_create([
            model(**{name: json.loads(value) if name in json_fields else value
                     for name, value in zip(fields, row, strict=True)}) for row in rows], batch_size=2000)
        return
    column = {field.attname: field.column for field in model._meta.concrete_fields}
    columns = ", ".join(f'"{column[name]}"' for name in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
