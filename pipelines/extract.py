"""Extract a monthly contract table from a SQL source (any SQLAlchemy URL) into the work directory.

Rows are streamed to a CSV file in the contract's textual form (dates ISO, money exact), ordered by
the table's key so that the same source gives the same bytes; the file then goes through the same
validation and staging as a landing file, with the SQL table named as its source in the quarantine.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import os
from pathlib import Path

import sqlalchemy as sa

from groupscope.config import SqlSource
from groupscope.contract import Table


class SourceError(RuntimeError):
    pass


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    return str(v)


def extract_sql_table(source: SqlSource, table: Table, period: str, dest: Path) -> Path:
    """Write the period's rows of `source.table` to `dest` (CSV with header); returns dest."""
    try:
        engine = sa.create_engine(source.url)
        with engine.connect() as conn:
            schema, _, name = source.table.rpartition(".")
            insp = sa.inspect(conn)
            if not insp.has_table(name, schema=schema or None):
                raise SourceError(f"{table.name}: SQL source table {source.table} does not exist")
            cols = {c["name"] for c in insp.get_columns(name, schema=schema or None)}
            missing = [c for c in table.column_names if c not in cols]
            if missing:
                from pipelines.ingest import SchemaError

                raise SchemaError(f"missing contract column(s): {', '.join(missing)}")
            t = sa.Table(name, sa.MetaData(), schema=schema or None, autoload_with=conn)
            q = sa.select(*[t.c[c] for c in table.column_names])
            if source.period_column:
                q = q.where(sa.cast(t.c[source.period_column], sa.String) == period)
            q = q.order_by(*[t.c[k] for k in table.key])
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.tmp")
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                w = csv.writer(fh, lineterminator="\n")
                w.writerow(table.column_names)
                result = conn.execution_options(stream_results=True, yield_per=50_000).execute(q)
                for part in result.partitions():
                    w.writerows([_text(v) for v in row] for row in part)
            os.replace(tmp, dest)
    except sa.exc.SQLAlchemyError as e:
        first = str(e).splitlines()[0]
        raise SourceError(f"{table.name}: SQL source {source.table} unreachable or failing: {first}") from None
    return dest
