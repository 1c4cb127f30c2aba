"""Writing tables the way source systems deliver them: CSV (RFC 4180, header row), gzip CSV, Parquet."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


def _as_text_columns(table: pa.Table) -> pa.Table:
    cols = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
        cols.append(col)
    return pa.table(cols, names=table.column_names)


def csv_bytes(table: pa.Table, encoding: str = "utf-8") -> bytes:
    buf = io.BytesIO()
    opts = pacsv.WriteOptions(include_header=True, quoting_style="needed")
    pacsv.write_csv(_as_text_columns(table), buf, write_options=opts)
    data = buf.getvalue()
    if encoding.lower().replace("-", "") not in ("utf8",):
        data = data.decode("utf-8").encode(encoding)
    return data


def write_table(table: pa.Table, path: Path, fmt: str, encoding: str = "utf-8") -> Path:
    """Write `table` to `path` + the format's ending. Deterministic: same table, same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        path = path.parent / f"{path.name}.parquet"
        pq.write_table(table, path, compression="zstd", compression_level=1)
    elif fmt == "csv":
        path = path.parent / f"{path.name}.csv"
        path.write_bytes(csv_bytes(table, encoding))
    elif fmt == "csv.gz":
        path = path.parent / f"{path.name}.csv.gz"
        with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="", compresslevel=3) as gz:
            gz.write(csv_bytes(table, encoding))
    else:
        raise ValueError(f"unknown format {fmt}")
    return path
