"""The SQLite results store: rows, resume keys, concurrency, and files it must refuse."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import os
import re
import socket
import sqlite3
import subprocess
import sys

import pytest

import fbinit
from fbinit.errors import FbinitError, ParameterError
from fbinit.sweep import (
    ResultsStore,
    StoreError,
    execute_task,
    expand,
    export_csv,
    export_parquet,
    make_task,
)
from fbinit.sweep.store import SCHEMA, SCHEMA_VERSION


def toy(n: int = 4, **params):
    return make_task("toy.draws", {"n": n, **params}, imports=["sweep_toys"])


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def filled(tmp_path):
    """A closed store of 30 rows spread over many pages, and its tasks."""
    path = tmp_path / "filled.sqlite"
    tasks = expand("toy.draws", {"n": list(range(100, 130))}, imports=["sweep_toys"])
    with ResultsStore(path) as store:
        for task in tasks:
            store.put(execute_task(task))
    return path, tasks


def test_rows_round_trip_results_and_provenance(tmp_path):
    task = toy(5, scale=2.0)
    res = execute_task(task)
    with ResultsStore(tmp_path / "s.sqlite") as store:
        assert store.put(res) is True
        (row,) = store.rows()
    assert row.key == task.key and row.params == task.params and row.run_seed == task.run_seed
    assert row.status == "done" and row.error_type is None and row.attempts == 1
    assert row.result == json.loads(res.result_json)
    assert row.result["draws"] == res.result["draws"]  # floats exact through JSON
    assert row.package_version == fbinit.__version__ and row.host == socket.gethostname()
    assert row.git_revision is None or re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", row.git_revision)
    assert row.wall_s >= 0 and row.started_at <= row.finished_at


def test_non_finite_results_survive(tmp_path):
    res = execute_task(make_task("toy.returns", {"kind": "nan"}, imports=["sweep_toys"]))
    with ResultsStore(tmp_path / "s.sqlite") as store:
        store.put(res)
        (row,) = store.rows()
    assert math.isnan(row.result["x"]) and row.result["y"] == math.inf
    assert math.copysign(1.0, row.result["z"]) == -1.0


def test_schema_wal_and_meta(tmp_path):
    path = tmp_path / "s.sqlite"
    ResultsStore(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert dict(conn.execute("SELECT key, value FROM meta")) == {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
    }
    pk = [r[1] for r in conn.execute("PRAGMA table_info(tasks)") if r[5]]
    assert pk == ["experiment", "config_hash", "seed"]
    conn.close()


def test_a_done_row_is_final_and_a_failed_row_gives_way(tmp_path):
    flag = tmp_path / "fail"
    flag.touch()
    task = toy(3, fail_while=str(flag))
    with ResultsStore(tmp_path / "s.sqlite") as store:
        assert store.put(execute_task(task)) is True
        assert store.put(execute_task(task)) is True  # failed again: replaced, attempt 2
        (row,) = store.rows()
        assert row.status == "failed" and row.attempts == 2 and row.result is None
        assert row.error_type == "builtins.ValueError" and "toy failure" in row.error_message
        assert "Traceback" in row.traceback and "sweep_toys.py" in row.traceback
        flag.unlink()
        assert store.put(execute_task(task)) is True
        (row,) = store.rows()
        assert row.status == "done" and row.attempts == 3 and row.error_type is None
        done = row
        assert store.put(execute_task(task)) is False  # never written twice
        (row,) = store.rows()
        assert row == done
        assert store.statuses([task, toy(4)]) == {task.key: "done"}


def test_filters(tmp_path):
    tasks = expand("toy.draws", {"n": [2, 3, 4], "scale": [1.0, 0.5]}, imports=["sweep_toys"])
    tasks += [make_task("toy.draws", {"n": 9, "fail": True}, imports=["sweep_toys"])]
    with ResultsStore(tmp_path / "s.sqlite") as store:
        for t in tasks:
            store.put(execute_task(t))
        assert len(store.rows()) == 7
        assert len(store.rows(experiment="toy.draws")) == 7
        assert store.rows(experiment="other") == []
        assert [r.params["n"] for r in store.rows(status="failed")] == [9]
        assert len(store.rows(where={"n": [3]})) == 2
        assert len(store.rows(where={"n": [2, 4], "scale": [0.5]})) == 2
        assert len(store.rows(where={"fail": [True]})) == 1
        assert store.rows(where={"n": ["3"]}) == []  # types matter: JSON 3 is not "3"
        with pytest.raises(ParameterError, match="status='finished' must be one of"):
            store.rows(status="finished")
        with pytest.raises(ParameterError, match="must be a parameter name"):
            store.rows(where={"n') OR 1=1 --": [1]})
        with pytest.raises(ParameterError, match="must be a list of plain values"):
            store.rows(where={"n": [[1]]})


def test_two_connections_write_one_store(tmp_path):
    path = tmp_path / "s.sqlite"
    tasks = expand("toy.draws", {"n": list(range(2, 22))}, imports=["sweep_toys"])
    with ResultsStore(path) as a, ResultsStore(path) as b:
        for i, t in enumerate(tasks):
            (a if i % 2 else b).put(execute_task(t))
            assert (b if i % 2 else a).put(execute_task(t)) is False
        assert len(a.rows()) == len(b.rows()) == 20
        assert a.integrity() == "ok"


# ----------------------------------------------------------------- refused files


def test_not_an_sqlite_file(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"these are my notes, not a database\n" * 200)
    before = digest(path)
    with pytest.raises(StoreError, match="is not an SQLite database"):
        ResultsStore(path)
    with pytest.raises(StoreError, match="is not an SQLite database"):
        ResultsStore(path, readonly=True)
    assert digest(path) == before


def test_an_sqlite_database_of_another_schema(tmp_path):
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE trials (id INTEGER PRIMARY KEY, value REAL)")
    conn.execute("INSERT INTO trials VALUES (1, 0.5)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(StoreError, match=r"another schema \(tables: trials\).*untouched"):
        ResultsStore(path)
    assert digest(path) == before
    assert not (tmp_path / "other.sqlite-wal").exists()


def test_a_corrupted_store_is_refused_and_left_as_it_is(filled):
    path, _ = filled
    data = bytearray(path.read_bytes())
    page = len(data) // 4096 // 2
    data[page * 4096 : (page + 1) * 4096] = b"\xab" * 4096
    path.write_bytes(bytes(data))
    before = digest(path)
    for readonly in (False, True):
        with pytest.raises(StoreError, match="is corrupted") as info:
            ResultsStore(path, readonly=readonly)
        assert "\n" not in str(info.value)
    assert digest(path) == before


def test_a_locked_store(filled):
    path, tasks = filled
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing
    try:
        with ResultsStore(path, timeout=0.2) as store:
            assert len(store.rows()) == 30  # readers are not blocked (WAL)
            with pytest.raises(StoreError, match=r"is locked by another process \(waited 0.2 s\)"):
                store.put(execute_task(toy(2)))
        other.execute("ROLLBACK")
        other.execute("PRAGMA locking_mode = EXCLUSIVE")
        other.execute("BEGIN EXCLUSIVE")  # holds every lock, readers too
        with pytest.raises(StoreError, match="is locked by another process"):
            ResultsStore(path, timeout=0.2)
    finally:
        other.close()
    with ResultsStore(path) as store:
        assert len(store.rows()) == 30 and store.integrity() == "ok"


@contextlib.contextmanager
def read_only(path):
    """Make a file or folder read-only, for root too (chattr +i), and undo it after."""
    mode = path.stat().st_mode
    path.chmod(0o555 if path.is_dir() else 0o444)
    immutable = os.geteuid() == 0
    if immutable:
        subprocess.run(["chattr", "+i", str(path)], check=True, timeout=10)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True, timeout=10)
        path.chmod(mode)


def test_a_read_only_store(filled):
    path, tasks = filled
    before = digest(path)
    with read_only(path):
        with pytest.raises(StoreError, match="is read-only"):
            ResultsStore(path)
        with ResultsStore(path, readonly=True) as store:  # listing still works
            assert len(store.rows()) == 30
    assert digest(path) == before


def test_a_store_in_a_read_only_folder(filled):
    path, _ = filled
    with read_only(path.parent):
        with pytest.raises(StoreError, match="is in a read-only folder"):
            ResultsStore(path)
        with ResultsStore(path, readonly=True) as store:  # read as an immutable file
            assert len(store.rows()) == 30
        with pytest.raises(StoreError, match="cannot be created"):
            ResultsStore(path.parent / "sub" / "new.sqlite")


def test_a_read_only_connection_cannot_write(filled):
    path, tasks = filled
    with ResultsStore(path, readonly=True) as store:
        with pytest.raises(StoreError, match="is open read-only"):
            store.put(execute_task(tasks[0]))


def test_path_errors(tmp_path):
    with pytest.raises(StoreError, match="must be a file \\(it is a folder\\)"):
        ResultsStore(tmp_path)
    with pytest.raises(StoreError, match="does not exist"):
        ResultsStore(tmp_path / "missing.sqlite", readonly=True)
    with pytest.raises(ParameterError, match="store='' must be a file path"):
        ResultsStore("")
    with pytest.raises(TypeError, match="must be a file path"):
        ResultsStore(3)
    with pytest.raises(ParameterError, match="timeout=0 must be"):
        ResultsStore(tmp_path / "s.sqlite", timeout=0)
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    with pytest.raises(StoreError, match="is empty, not a results store"):
        ResultsStore(empty, readonly=True)
    ResultsStore(empty).close()  # an empty file is a new store
    store = ResultsStore(empty)
    store.close()
    with pytest.raises(StoreError, match="is closed"):
        store.rows()


# ---------------------------------------------------------------------- exports


def test_export_csv(tmp_path):
    tasks = [toy(3), toy(2, scale=0.5), toy(fail=True)]
    with ResultsStore(tmp_path / "s.sqlite") as store:
        for t in tasks:
            store.put(execute_task(t))
        rows = store.rows()
    path = export_csv(rows, tmp_path / "out" / "rows.csv")
    with path.open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 3
    by_n = {(r["params.n"], r["params.scale"]): r for r in table}
    done = by_n[("2", "0.5")]
    stored = next(r for r in rows if r.params["n"] == 2)
    assert float(done["result.mean"]) == stored.result["mean"]  # full precision
    assert json.loads(done["result.draws"]) == stored.result["draws"]
    assert json.loads(done["result.nested"]) == stored.result["nested"]
    assert done["status"] == "done" and done["error_type"] == ""
    failed = next(r for r in table if r["status"] == "failed")
    assert failed["result.mean"] == "" and failed["error_type"] == "builtins.ValueError"
    assert "Traceback" in failed["traceback"]


def test_export_parquet(tmp_path):
    import pyarrow.parquet as parquet  # the parquet extra, part of the dev extra

    tasks = [toy(3), toy(5), toy(fail=True)]
    with ResultsStore(tmp_path / "s.sqlite") as store:
        for t in tasks:
            store.put(execute_task(t))
        rows = store.rows()
    table = parquet.read_table(export_parquet(rows, tmp_path / "rows.parquet"))
    assert table.num_rows == 3
    import pyarrow as pa

    draws = table.schema.field("result.draws").type
    assert pa.types.is_list(draws) and pa.types.is_float64(draws.value_type)
    assert pa.types.is_int64(table.schema.field("params.n").type)
    data = table.to_pylist()
    for rec, row in zip(data, rows, strict=True):
        assert rec["config_hash"] == row.config_hash
        assert rec["result.draws"] == (row.result or {}).get("draws")
    mixed = [r for r in rows if r.status == "done"]
    object.__setattr__(mixed[0], "result", {**mixed[0].result, "mean": "text"})
    table = parquet.read_table(export_parquet(mixed, tmp_path / "mixed.parquet"))
    assert pa.types.is_string(table.schema.field("result.mean").type)  # JSON text fallback


def test_export_parquet_without_pyarrow(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(FbinitError, match=r"needs pyarrow: pip install 'fbinit\[parquet\]'"):
        export_parquet([], tmp_path / "rows.parquet")
    assert not (tmp_path / "rows.parquet").exists()
