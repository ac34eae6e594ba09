"""The results store: one SQLite row per experiment x configuration hash x seed.

Schema (version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)      -- schema = 'fbinit.sweep', schema_version = '1'
    tasks(
        experiment TEXT, config_hash TEXT, seed INTEGER,   -- PRIMARY KEY (the three)
        params TEXT,            -- canonical JSON of the full parameters
        run_seed INTEGER,       -- the seed the experiment function received
        status TEXT,            -- 'done' or 'failed'
        result TEXT,            -- JSON object of the results (NULL if failed)
        error_type TEXT, error_message TEXT, traceback TEXT,   -- NULL if done
        wall_s REAL, host TEXT, package_version TEXT, git_revision TEXT,
        started_at TEXT, finished_at TEXT,                     -- ISO 8601, UTC
        warnings TEXT,          -- JSON list of the warnings it raised (NULL if none)
        attempts INTEGER        -- runs that reached the store (a retried failure adds one)
    )

Results are one JSON column rather than a table of (row, name, value): an experiment
returns a nested mapping whose shape the store need not know (scalars, arrays such as a
kappa trajectory, stored as JSON lists, nested tables), a row is read or written whole, and
the exports flatten the top-level entries into columns. Parameters are a JSON column too,
filtered in SQL with ``json_extract``.

Writes: WAL journal, one ``BEGIN IMMEDIATE`` transaction per finished task, a busy timeout
and retries, so several processes may write at once. A ``done`` row is never replaced; a
``failed`` row is replaced by a later run of the same task. A file that is not a store of
this schema (another SQLite database, a corrupted one, not SQLite at all), a locked or a
read-only one raises :class:`StoreError` before anything is written to it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fbinit.errors import FbinitError, ParameterError
from fbinit.sweep.executors import TaskResult
from fbinit.sweep.grid import Task

__all__ = ["COLUMNS", "SCHEMA", "SCHEMA_VERSION", "ResultsStore", "Row", "StoreError"]

SCHEMA = "fbinit.sweep"
SCHEMA_VERSION = "1"
#: seconds a write waits for another process's lock before giving up
DEFAULT_TIMEOUT = 60.0
STATUSES = ("done", "failed")

_CREATE = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE tasks (
    experiment TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    seed INTEGER NOT NULL,
    params TEXT NOT NULL,
    run_seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    result TEXT,
    error_type TEXT,
    error_message TEXT,
    traceback TEXT,
    wall_s REAL NOT NULL,
    host TEXT NOT NULL,
    package_version TEXT NOT NULL,
    git_revision TEXT,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    warnings TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (experiment, config_hash, seed)
);
CREATE INDEX tasks_status ON tasks (experiment, status);
"""

#: the columns of the ``tasks`` table, in order
COLUMNS = (
    "experiment",
    "config_hash",
    "seed",
    "params",
    "run_seed",
    "status",
    "result",
    "error_type",
    "error_message",
    "traceback",
    "wall_s",
    "host",
    "package_version",
    "git_revision",
    "started_at",
    "finished_at",
    "warnings",
    "attempts",
)

# a done row is final; a failed one gives way to the next run of its task
_UPSERT = f"""
INSERT INTO tasks ({", ".join(COLUMNS[:-1])}) VALUES ({", ".join("?" * (len(COLUMNS) - 1))})
ON CONFLICT (experiment, config_hash, seed) DO UPDATE SET
    {", ".join(f"{c} = excluded.{c}" for c in COLUMNS[3:-1])},
    attempts = tasks.attempts + 1
WHERE tasks.status = 'failed'
"""


class StoreError(FbinitError):
    """The results store cannot be used: not a store, corrupted, locked or read-only."""


@dataclass(frozen=True)
class Row(TaskResult):
    """One stored task: a :class:`TaskResult` read back, with the runs that reached the store.

    ``experiment``, ``config_hash``, ``seed``, ``params``, ``run_seed`` and ``key`` are
    those of its :attr:`task` (whose ``imports`` are not stored).
    """

    attempts: int = 1

    @property
    def experiment(self) -> str:
        return self.task.experiment

    @property
    def config_hash(self) -> str:
        return self.task.config_hash

    @property
    def seed(self) -> int:
        return self.task.seed

    @property
    def params(self) -> dict[str, Any]:
        return self.task.params

    @property
    def run_seed(self) -> int:
        return self.task.run_seed

    @property
    def key(self) -> tuple[str, str, int]:
        return self.task.key


def _is_busy(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class ResultsStore:
    """An SQLite file of task results (see the module docstring for the schema).

    Parameters
    ----------
    path : str or os.PathLike
        The file. Created with its folder if missing (unless ``readonly``); an existing
        file must be a store of this schema.
    readonly : bool, default False
        Open for reading only (listing and exporting); the file must exist.
    timeout : float > 0
        Seconds a write waits for other processes' locks (then retries until the same
        time has passed again) before :class:`StoreError`.

    Raises
    ------
    StoreError
        One line naming the file and the problem: not an SQLite file, another schema,
        corrupted (``PRAGMA quick_check``), locked, read-only, missing (``readonly``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from fbinit.sweep import make_task, execute_task
    >>> task = make_task("scaling", {"n_filters": 5, "kernel_size": 8, "n_draws": 4})
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with ResultsStore(pathlib.Path(d) / "s.sqlite") as store:
    ...         store.put(execute_task(task)), store.put(execute_task(task))
    ...         [r.status for r in store.rows()]
    (True, False)
    ['done']
    """

    def __init__(
        self, path: str | os.PathLike, *, readonly: bool = False, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._conn: sqlite3.Connection | None = None
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path={path!r} must be a file path")
        if str(path) == "":
            raise ParameterError("store='' must be a file path")
        if not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ParameterError(f"timeout={timeout!r} must be a number of seconds > 0")
        self.path = Path(path)
        self.readonly = bool(readonly)
        self.timeout = float(timeout)
        self._conn = self._open()

    # ------------------------------------------------------------------ opening

    def _fail(self, rule: str) -> StoreError:
        return StoreError(f"store='{self.path}' {rule}")

    def _open(self) -> sqlite3.Connection:
        path = self.path
        if path.is_dir():
            raise self._fail("must be a file (it is a folder)")
        exists = path.exists()
        if self.readonly:
            if not exists:
                raise self._fail("does not exist")
            conn = self._connect("ro")
        else:
            folder = path.parent
            if not exists:
                try:
                    folder.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise self._fail(f"cannot be created ({exc.strerror})") from None
            if exists and not os.access(path, os.W_OK):
                raise self._fail("is read-only: choose a writable store or copy it")
            if not os.access(folder, os.W_OK | os.X_OK):
                raise self._fail(
                    f"is in a read-only folder '{folder}' (SQLite writes its journal beside "
                    "the file): choose a writable folder"
                )
            conn = self._connect("rw" if exists else "rwc")
        try:
            self._check_schema(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _connect(self, mode: str) -> sqlite3.Connection:
        uri = f"{self.path.resolve().as_uri()}?mode={mode}"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self.timeout, isolation_level=None)
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            if mode == "ro" and not os.access(self.path.parent, os.W_OK):
                # a WAL file in a read-only folder: readable as immutable if no journal is left
                if Path(f"{self.path}-wal").exists():
                    raise self._fail(
                        "has an unmerged journal (-wal) in a read-only folder: copy the file "
                        "and its -wal to a writable folder"
                    ) from None
                return self._connect("ro&immutable=1")
            raise self._translate(exc) from None
        return conn

    def _translate(self, exc: sqlite3.Error) -> StoreError:
        code = getattr(exc, "sqlite_errorcode", None)
        if code == sqlite3.SQLITE_NOTADB:
            return self._fail("is not an SQLite database (or its header is corrupted)")
        if code == sqlite3.SQLITE_CORRUPT:
            return self._fail(f"is corrupted ({exc}); its rows are left as they are")
        if _is_busy(exc):
            return self._fail(
                f"is locked by another process (waited {self.timeout:g} s); try again later"
            )
        if code == sqlite3.SQLITE_READONLY or "readonly" in str(exc):
            return self._fail("is read-only: choose a writable store or copy it")
        if code == sqlite3.SQLITE_CANTOPEN:
            return self._fail("cannot be opened (missing folder or no permission)")
        return self._fail(f"cannot be used ({type(exc).__name__}: {exc})")

    def _check_schema(self, conn: sqlite3.Connection) -> None:
        try:
            tables = sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))
            if not tables:
                if self.readonly:
                    raise self._fail("is empty, not a results store")
                self._create(conn)
                return
            meta = {}
            if "meta" in tables:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("schema") != SCHEMA or "tasks" not in tables:
                raise self._fail(
                    f"is an SQLite database of another schema (tables: {', '.join(tables)}); "
                    "it is left untouched: choose another file"
                )
            if meta.get("schema_version") != SCHEMA_VERSION:
                raise self._fail(
                    f"has schema version {meta.get('schema_version')!r}; this fbinit reads "
                    f"version {SCHEMA_VERSION!r}"
                )
            check = conn.execute("PRAGMA quick_check(1)").fetchone()[0]
            if check != "ok":
                check = " ".join(check.replace("*** in database main ***", "").split())
                raise self._fail(f"is corrupted ({check}); its rows are left as they are")
            if not self.readonly:
                conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
                if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
                    raise self._fail("cannot be switched to WAL mode")
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise self._translate(exc) from None

    def _create(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have created it since we looked
            if conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                for statement in _CREATE.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.executemany(
                    "INSERT INTO meta VALUES (?, ?)",
                    [("schema", SCHEMA), ("schema_version", SCHEMA_VERSION)],
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._check_schema(conn)

    # ------------------------------------------------------------------ use

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"store='{self.path}' is closed")
        return self._conn

    def close(self) -> None:
        """Close the connection (idempotent)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        try:
            return self.conn.execute(sql, args).fetchall()
        except sqlite3.Error as exc:
            raise self._translate(exc) from None

    def put(self, result: TaskResult) -> bool:
        """Store one finished task in its own transaction.

        Returns
        -------
        bool
            True if the row was written; False if the task is already stored as done
            (by an earlier or a concurrent sweep), which is left as it is.
        """
        if self.readonly:
            raise self._fail("is open read-only")
        t = result.task
        values = (
            t.experiment,
            t.config_hash,
            t.seed,
            json.dumps(t.params, sort_keys=True, separators=(",", ":")),
            t.run_seed,
            result.status,
            result.result_json,
            result.error_type,
            result.error_message,
            result.traceback,
            result.wall_s,
            result.host,
            result.package_version,
            result.git_revision,
            result.started_at,
            result.finished_at,
            result.warnings_json,
        )
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                try:
                    written = self.conn.execute(_UPSERT, values).rowcount
                    self.conn.execute("COMMIT")
                except BaseException:
                    self.conn.execute("ROLLBACK")
                    raise
                return written > 0
            except sqlite3.Error as exc:
                if _is_busy(exc) and time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                raise self._translate(exc) from None

    def statuses(self, tasks: Iterable[Task]) -> dict[tuple[str, str, int], str]:
        """Stored status ('done' or 'failed') of each of ``tasks`` that is stored."""
        wanted = {t.key for t in tasks}
        out = {}
        for experiment in sorted({k[0] for k in wanted}):
            for h, seed, status in self._read(
                "SELECT config_hash, seed, status FROM tasks WHERE experiment = ?", (experiment,)
            ):
                if (experiment, h, seed) in wanted:
                    out[(experiment, h, seed)] = status
        return out

    def rows(
        self,
        *,
        experiment: str | None = None,
        status: str | None = None,
        where: Mapping[str, Sequence[Any]] | None = None,
        keys: Iterable[tuple[str, str, int]] | None = None,
    ) -> list[Row]:
        """Stored rows, filtered; ordered by experiment, finish time.

        Parameters
        ----------
        experiment : str, optional
        status : {"done", "failed"}, optional
        where : mapping of parameter name -> list of values, optional
            A row matches if each named parameter equals one of its values.
        keys : iterable of (experiment, config_hash, seed), optional
            Only these rows.
        """
        sql = f"SELECT {', '.join(COLUMNS)} FROM tasks"
        clauses, args = self._filters(experiment, status, where)
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY experiment, finished_at, config_hash, seed"
        wanted = None if keys is None else set(keys)
        out = []
        for values in self._read(sql, args):
            col = dict(zip(COLUMNS, values, strict=True))
            key = (col["experiment"], col["config_hash"], col["seed"])
            if wanted is not None and key not in wanted:
                continue
            params = json.loads(col["params"])
            task = Task(key[0], params, key[2], key[1], col["run_seed"])
            out.append(Row(task, *(col[c] for c in COLUMNS[5:])))
        return out

    @staticmethod
    def _filters(experiment, status, where) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if experiment is not None:
            clauses.append("experiment = ?")
            args.append(experiment)
        if status is not None:
            if status not in STATUSES:
                raise ParameterError(f"status={status!r} must be one of 'done', 'failed'")
            clauses.append("status = ?")
            args.append(status)
        for name, values in (where or {}).items():
            if not name.isidentifier():
                raise ParameterError(f"where name={name!r} must be a parameter name")
            values = list(values)
            if not values or not all(
                v is None or isinstance(v, (str, int, float, bool)) for v in values
            ):
                raise ParameterError(f"where {name}={values!r} must be a list of plain values")
            clauses.append(f"json_extract(params, '$.{name}') IN ({', '.join('?' * len(values))})")
            args += values
        return clauses, args

    def results(self, tasks: Sequence[Task]) -> list[Row]:
        """The stored rows of ``tasks`` (missing ones left out)."""
        return self.rows(keys=[t.key for t in tasks])

    def integrity(self) -> str:
        """``PRAGMA integrity_check``: 'ok' for an intact file."""
        return "; ".join(r[0] for r in self._read("PRAGMA integrity_check"))
