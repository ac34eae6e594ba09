"""Stored rows as a flat table: CSV (always) and Parquet (with the ``parquet`` extra).

Columns: the row's key and status, then ``params.<name>`` for each parameter and
``result.<name>`` for each top-level entry of the results (the union over the rows, in
order of first appearance; missing ones empty), then the error, timing and provenance
columns. Lists and tables inside a value (an array of draws, a trajectory) become JSON
text in CSV and typed list columns in Parquet where their type is uniform.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fbinit._io import atomic_write_bytes, write_csv
from fbinit.errors import FbinitError
from fbinit.sweep.store import COLUMNS, Row

__all__ = ["export_csv", "export_parquet", "flatten_rows"]

_HEAD = ("experiment", "config_hash", "seed", "status")
#: the store's other columns, after the parameters and results
_TAIL = tuple(c for c in COLUMNS if c not in (*_HEAD, "params", "result"))


def flatten_rows(rows: Sequence[Row]) -> dict[str, list[Any]]:
    """Columns of equal length, one entry per row (see the module docstring).

    Examples
    --------
    >>> from fbinit.sweep import Task
    >>> from fbinit.sweep.store import Row
    >>> task = Task("toy", {"x": 1}, 0, "ab", 0)
    >>> row = Row(task, "done", '{"y":[1.0,2.0]}', None, None, None, 0.1, "h", "0.1.0", None,
    ...           "t0", "t1")
    >>> list(flatten_rows([row]))[:6]
    ['experiment', 'config_hash', 'seed', 'status', 'params.x', 'result.y']
    """
    params: dict[str, None] = {}
    results: dict[str, None] = {}
    for row in rows:
        params.update(dict.fromkeys(row.params))
        results.update(dict.fromkeys(row.result or {}))
    columns: dict[str, list[Any]] = {name: [] for name in _HEAD}
    columns.update({f"params.{p}": [] for p in params})
    columns.update({f"result.{r}": [] for r in results})
    columns.update({name: [] for name in _TAIL})
    for row in rows:
        for name in _HEAD + _TAIL:
            columns[name].append(getattr(row, name))
        for p in params:
            columns[f"params.{p}"].append(row.params.get(p))
        for r in results:
            columns[f"result.{r}"].append((row.result or {}).get(r))
    return columns


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def export_csv(rows: Sequence[Row], path: str | os.PathLike) -> Path:
    """Write the rows as CSV atomically (floats at full precision); return the path.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from fbinit.sweep import Task
    >>> from fbinit.sweep.store import Row
    >>> task = Task("toy", {"x": 1}, 0, "ab", 0)
    >>> row = Row(task, "done", '{"y":[1.0,2.0]}', None, None, None, 0.1, "h", "0.1.0", None,
    ...           "t0", "t1")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     text = export_csv([row], pathlib.Path(d) / "r.csv").read_text()
    >>> text.splitlines()[1][:27]
    'toy,ab,0,done,1,"[1.0,2.0]"'
    """
    columns = flatten_rows(rows)
    body = ([_csv_cell(v) for v in values] for values in zip(*columns.values(), strict=True))
    return write_csv(path, list(columns), body)


def export_parquet(rows: Sequence[Row], path: str | os.PathLike) -> Path:
    """Write the rows as a Parquet file atomically; return the path.

    A column whose values Arrow cannot type uniformly (numbers and strings mixed, say) is
    written as JSON text.

    Raises
    ------
    FbinitError
        If pyarrow is not installed (``pip install 'fbinit[parquet]'``).
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise FbinitError(
            "Parquet export needs pyarrow: pip install 'fbinit[parquet]' (or export to CSV)"
        ) from None
    arrays = {}
    for name, values in flatten_rows(rows).items():
        try:
            arrays[name] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            arrays[name] = pa.array(
                [None if v is None else json.dumps(v, separators=(",", ":")) for v in values],
                type=pa.string(),
            )
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays), buffer)
    return atomic_write_bytes(path, buffer.getvalue())
