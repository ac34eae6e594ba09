"""Output files: checked before any work, written atomically, grouped into whole output sets.

Every result of fbinit (CSV tables, JSON summaries, figures, reports) is written through
these helpers:

- :func:`check_output_file` and :func:`check_output_dir` check a target up front (a path,
  not empty, not a directory given as a file, not under a file, in a folder where files can
  be created), so that a command fails in one line before it computes anything;
- :func:`atomic_write_bytes` builds the content in memory, writes it to a temporary file
  beside the target and renames it into place, so the target is either as it was or
  complete. A symbolic link is written through: its target file is replaced, the link kept;
- :func:`output_set` builds a folder of several files (a report, the paper figures) in a
  temporary folder beside the target and swaps it in whole, so the folder holds either the
  previous set or the new one, never a mix (see its docstring for pre-existing folders and
  concurrent runs);
- temporary names carry the writer's process id, ``.<name>.<pid>.<random>.tmp``: those of
  processes that no longer run (killed runs) are removed by the next write to the same
  target;
- CSV files start with ``# key: value`` lines recording the settings that produced them
  (:func:`csv_text`, read back by :func:`read_csv`).
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import ctypes.util
import datetime
import errno
import fcntl
import io
import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fbinit.errors import ParameterError

__all__ = [
    "MANIFEST_NAME",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output_dir",
    "check_output_file",
    "csv_text",
    "output_set",
    "read_csv",
    "read_manifest",
    "remove_stale_temporaries",
    "save_figure",
    "write_csv",
    "write_csv_columns",
]

#: file of an output set that lists its files and the settings that produced them
MANIFEST_NAME = "manifest.json"
#: temporary files without a process id in their name (older versions) are stale after this
_LEGACY_STALE_SECONDS = 3600.0


# ------------------------------------------------------------------------ temporaries


def _temp_prefix(name: str) -> str:
    return f".{name}.{os.getpid()}."


def _temp_pattern(name: str) -> re.Pattern:
    """Temporary names of ``name``: ``.<name>.<pid>.<random>.(tmp|old)`` (or legacy)."""
    return re.compile(rf"\.{re.escape(name)}\.(?:(?P<pid>\d+)\.)?[A-Za-z0-9_]+\.(?P<kind>tmp|old)")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale_temporaries(folder: str | os.PathLike, name: str) -> list[Path]:
    """Remove the temporaries of ``folder/name`` left by processes that no longer run.

    A temporary ``.<name>.<pid>.<random>.tmp`` (a file, or the staging folder of an output
    set) is stale when process ``pid`` no longer runs on this machine; one without a pid (an
    older version's) when it is older than an hour. A stale ``.old`` folder is the previous
    output set of a swap that was interrupted: it is moved back to ``name`` if that is
    missing, else removed. Temporaries of running processes are left alone.

    Returns
    -------
    list of pathlib.Path
        The temporaries removed (or restored).
    """
    folder = Path(folder)
    pattern = _temp_pattern(name)
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        pid = match.group("pid")
        if pid is not None and _process_alive(int(pid)):
            continue
        if pid is None:
            with contextlib.suppress(OSError):
                if now - entry.lstat().st_mtime < _LEGACY_STALE_SECONDS:
                    continue
        target = folder / name
        if match.group("kind") == "old" and not os.path.lexists(target):
            with contextlib.suppress(OSError):
                os.rename(entry, target)
                removed.append(entry)
                continue
        _remove(entry)
        removed.append(entry)
    return removed


# --------------------------------------------------------------------- checking targets


def _as_path(name: str, path: Any) -> Path:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}={path!r} must be a path (str or os.PathLike)")
    text = os.fspath(path)
    if not text.strip():
        raise ParameterError(f"{name}={text!r} must be a non-empty path")
    if "\x00" in text:
        raise ParameterError(f"{name}={text!r} must not contain a NUL character")
    return Path(text)


def _real_target(path: Path) -> Path:
    """The file a write to ``path`` must replace: a symbolic link's target, else ``path``."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _check_creatable(name: str, shown: Path, folder: Path) -> None:
    """Raise unless files can be created in ``folder`` (or in its nearest existing ancestor)."""
    existing = folder
    while not os.path.lexists(existing):
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ParameterError(f"{name}='{shown}' must not lie under '{existing}', which is a file")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".fbinit-probe.")
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ParameterError(
            f"{name}='{shown}' must be writable: files cannot be created in '{existing}' ({reason})"
        ) from exc
    os.close(fd)
    os.unlink(probe)


def check_output_file(path: Any, *, name: str = "path") -> Path:
    """Check, before any work, that a file can be written at ``path``; return it as a Path.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write. A symbolic link is accepted (its target is written).
    name : str
        How to name the target in messages (``"--csv"`` for a command-line option).

    Raises
    ------
    ParameterError
        If ``path`` is empty, is an existing directory, lies under a file, or its folder
        does not let files be created.
    TypeError
        If ``path`` is not a str or os.PathLike.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_output_file(pathlib.Path(d) / "new" / "t.csv").name
    't.csv'
    >>> check_output_file("", name="--csv")
    Traceback (most recent call last):
    ...
    fbinit.errors.ParameterError: --csv='' must be a non-empty path
    """
    shown = _as_path(name, path)
    target = _real_target(shown)
    if target.is_dir():
        raise ParameterError(f"{name}='{shown}' must be a file path, not a directory")
    _check_creatable(name, shown, target.parent)
    return shown


def read_manifest(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The manifest of an output set (a dict), or None if ``folder`` holds no valid one."""
    try:
        data = json.loads((Path(folder) / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        return None
    return data


def check_output_dir(path: Any, *, kind: str | None, name: str = "out_dir") -> Path:
    """Check, before any work, that an output folder can be written at ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        The folder. A symbolic link to a folder is accepted (the folder it points to is
        written, the link kept).
    kind : str or None
        What output set the folder is to hold (``"fbinit report"``, see
        :func:`output_set`): an existing folder is then accepted only if it is empty or
        holds an output set of the same kind, and it must not be the current folder or one
        of its parents (it is replaced whole). None: a folder that files are written into,
        beside whatever it holds.
    name : str
        How to name the target in messages.

    Returns
    -------
    pathlib.Path
        The absolute folder to write (a symbolic link resolved).

    Raises
    ------
    ParameterError
        If ``path`` is empty, is a file, lies under a file, does not let files be created,
        or (for a ``kind``) is the current folder or one of its parents or holds files that
        are not an output set of ``kind``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     check_output_dir(pathlib.Path(d) / "report", kind="fbinit report").name
    'report'
    """
    shown = _as_path(name, path)
    target = _real_target(shown)
    if target.exists() and not target.is_dir():
        raise ParameterError(f"{name}='{shown}' must be a directory (it is a file)")
    absolute = Path(os.path.abspath(target))
    if kind is None:
        _check_creatable(name, shown, absolute)
        return absolute
    cwd = Path.cwd()
    if absolute == cwd or absolute in cwd.parents:
        raise ParameterError(
            f"{name}='{shown}' must not be the current folder or one of its parents "
            "(the output folder is replaced whole); name a subfolder"
        )
    if target.is_dir():
        _check_replaceable(name, shown, target, kind)
    _check_creatable(name, shown, absolute.parent)
    return absolute


def _check_replaceable(name: str, shown: Path, folder: Path, kind: str) -> None:
    manifest = read_manifest(folder)
    if manifest is not None:
        if manifest.get("kind") != kind:
            raise ParameterError(
                f"{name}='{shown}' must be a new or empty folder, or one written by {kind}; "
                f"it holds the output of {manifest.get('kind')!r}"
            )
        return
    try:
        entries = sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        raise ParameterError(f"{name}='{shown}' must be a readable folder ({exc})") from exc
    if entries:
        listed = ", ".join(repr(e) for e in entries[:3]) + (", ..." if len(entries) > 3 else "")
        count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        raise ParameterError(
            f"{name}='{shown}' must be a new or empty folder, or one written by {kind}: it "
            f"holds {count} ({listed}) that fbinit did not write"
        )


# ------------------------------------------------------------------------ single files


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place.

    A symbolic link at ``path`` is written through (its target is replaced). Stale
    temporaries of ``path`` left by killed runs are removed first.
    """
    path = Path(path)
    target = _real_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent, target.name)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target.name), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Atomic counterpart of ``Path.write_text`` (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


# -------------------------------------------------------------------------------- CSV


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, (os.PathLike, Path)):
        return os.fspath(value)
    if hasattr(value, "tolist"):  # torch tensors
        return value.tolist()
    return str(value)


def settings_lines(settings: Mapping[str, Any]) -> str:
    """``# key: value`` lines (values as JSON, one line each) recording ``settings``."""
    lines = []
    for key, value in settings.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", key):
            raise ParameterError(f"settings key={key!r} must be an identifier-like string")
        lines.append(f"# {key}: {json.dumps(value, default=_jsonable)}\n")
    return "".join(lines)


def csv_text(
    header: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    *,
    settings: Mapping[str, Any] | None = None,
) -> str:
    r"""CSV text of a header row and data rows (``csv`` module quoting, ``\n`` line ends).

    ``settings`` (seed, draws, sizes, package version, ...) become leading comment lines
    ``# key: value`` with JSON values, which :func:`read_csv` parses back (and pandas skips
    with ``comment="#"``).

    Examples
    --------
    >>> csv_text(["a", "b"], [[1, "x,y"], [2.5, ""]])
    'a,b\n1,"x,y"\n2.5,\n'
    >>> csv_text(["n"], [[1]], settings={"seed": 0, "sizes": [8, 16]})
    '# seed: 0\n# sizes: [8, 16]\nn\n1\n'
    """
    buf = io.StringIO()
    if settings:
        buf.write(settings_lines(settings))
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(
    path: str | Path,
    header: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    *,
    settings: Mapping[str, Any] | None = None,
) -> Path:
    r"""Write a header row and data rows as a CSV file, atomically; return the path.

    The text is built in memory (:func:`csv_text`, with the ``settings`` header) and written
    with :func:`atomic_write_text`: an exception while building or writing leaves an
    existing file untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_csv(pathlib.Path(d) / "t.csv", ["n", "x"], [[1, 0.5], [2, 0.25]])
    ...     p.read_text()
    'n,x\n1,0.5\n2,0.25\n'
    """
    return atomic_write_text(path, csv_text(header, rows, settings=settings))


def write_csv_columns(
    path: str | Path, columns: Mapping[str, Any], *, settings: Mapping[str, Any] | None = None
) -> Path:
    r"""Write named columns of equal length (arrays or lists) as a CSV file, atomically.

    The keys are the header; each cell is the column's element as ``numpy.ndarray.tolist``
    gives it (floats at full precision). ``settings`` are written as in :func:`csv_text`.

    Raises
    ------
    ParameterError
        If the columns differ in length.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_csv_columns(pathlib.Path(d) / "t.csv", {"n": np.arange(2), "x": [0.5, 0.25]})
    ...     p.read_text()
    'n,x\n0,0.5\n1,0.25\n'
    """
    cells = [np.asarray(values).tolist() for values in columns.values()]
    lengths = {name: len(col) for name, col in zip(columns, cells, strict=True)}
    if len(set(lengths.values())) > 1:
        raise ParameterError(f"column lengths={lengths} must be equal")
    return write_csv(path, list(columns), zip(*cells, strict=True), settings=settings)


def read_csv(path: str | Path) -> tuple[dict[str, Any], dict[str, list[str]]]:
    r"""Read a CSV written by :func:`write_csv`: its settings and its columns (as strings).

    Returns
    -------
    settings : dict
        The leading ``# key: value`` lines, values parsed as JSON.
    columns : dict of str -> list of str
        Header name to the column's cells, in file order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_csv(pathlib.Path(d) / "t.csv", ["n"], [[1], [2]], settings={"seed": 3})
    ...     read_csv(p)
    ({'seed': 3}, {'n': ['1', '2']})
    """
    text = Path(path).read_text(encoding="utf-8")
    settings: dict[str, Any] = {}
    lines = text.splitlines(keepends=True)
    start = 0
    while start < len(lines) and lines[start].startswith("# "):
        key, sep, value = lines[start][2:].rstrip("\n").partition(": ")
        if not sep:
            raise ParameterError(f"path='{path}' line {start + 1} must read '# key: value'")
        settings[key] = json.loads(value)
        start += 1
    reader = csv.reader(io.StringIO("".join(lines[start:])))
    header = next(reader, [])
    columns: dict[str, list[str]] = {h: [] for h in header}
    for row in reader:
        for h, cell in zip(header, row, strict=True):
            columns[h].append(cell)
    return settings, columns


# ------------------------------------------------------------------------ output sets


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (flock on the directory; released on exit)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc_name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(libc_name, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a), None, str(b))


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _carry_over(old: Path, new: Path, listed: set[str]) -> None:
    """Link into ``new`` the files of ``old`` that its manifest does not list (user files)."""
    for root, _dirs, files in os.walk(old):
        for file in files:
            src = Path(root) / file
            rel = src.relative_to(old).as_posix()
            if rel == MANIFEST_NAME or rel in listed or (new / rel).exists():
                continue
            _link_or_copy(src, new / rel)


def _swap_in(staging: Path, target: Path, kind: str) -> None:
    with _locked(target.parent):
        remove_stale_temporaries(target.parent, target.name)
        if not os.path.lexists(target):
            os.rename(staging, target)
            return
        # another run may have written the folder since the check: check it again
        _check_replaceable("out_dir", target, target, kind)
        old = read_manifest(target)
        _carry_over(target, staging, set(old["files"]) if old else set())
        if _exchange(staging, target):
            _remove(staging)  # holds the previous set now
            return
        parked = Path(tempfile.mkdtemp(dir=target.parent, prefix=_temp_prefix(target.name)))
        previous = parked.with_name(parked.name + ".old")
        os.rmdir(parked)
        os.rename(target, previous)
        os.rename(staging, target)
        _remove(previous)


@contextlib.contextmanager
def output_set(
    out_dir: Any,
    *,
    kind: str,
    settings: Mapping[str, Any] | None = None,
    name: str = "out_dir",
) -> Iterator[Path]:
    """Build an output set in a temporary folder and swap it in whole at ``out_dir``.

    Usage: ``with output_set(out, kind="fbinit report", settings=...) as folder:`` write the
    files into ``folder``; when the block ends without an exception, ``manifest.json``
    (kind, package version, settings, the list of files) is added and the folder replaces
    ``out_dir`` in one step. If the block raises, or the process is killed, ``out_dir`` is
    left as it was.

    - The staging folder is ``.<name>.<pid>.<random>.tmp`` beside ``out_dir``; staging
      folders of killed runs are removed by the next run that writes ``out_dir``.
    - A pre-existing ``out_dir`` must be empty or hold an output set of the same ``kind``
      (checked up front by :func:`check_output_dir`); otherwise nothing is computed. Files
      that a user added to a previous set (not in its manifest) are carried over.
    - Concurrent runs into one folder each build their own set; the swaps are serialised
      (a lock on the parent folder) and the last run to finish wins, whole: the folder never
      mixes files of two runs. On Linux the swap is one atomic exchange (renameat2); elsewhere
      two renames, between which the folder is briefly absent, never mixed.

    Parameters
    ----------
    out_dir : str or os.PathLike
    kind : str
        What the set is, recorded in the manifest.
    settings : mapping, optional
        The settings that produced the set (JSON-serialisable), recorded in the manifest.
    name : str
        How to name ``out_dir`` in messages.

    Yields
    ------
    pathlib.Path
        The staging folder to write into.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with output_set(pathlib.Path(d) / "out", kind="demo", settings={"seed": 0}) as f:
    ...         _ = (f / "a.txt").write_text("a")
    ...     sorted(p.name for p in (pathlib.Path(d) / "out").iterdir())
    ['a.txt', 'manifest.json']
    """
    target = check_output_dir(out_dir, kind=kind, name=name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(
        tempfile.mkdtemp(dir=target.parent, prefix=_temp_prefix(target.name), suffix=".tmp")
    )
    try:
        yield staging
        files = sorted(
            p.relative_to(staging).as_posix()
            for p in staging.rglob("*")
            if p.is_file() and p.name != MANIFEST_NAME
        )
        from fbinit import __version__

        manifest = {
            "kind": kind,
            "fbinit": __version__,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "settings": dict(settings or {}),
            "files": files,
        }
        text = json.dumps(manifest, indent=2, default=_jsonable) + "\n"
        (staging / MANIFEST_NAME).write_text(text, encoding="utf-8")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(staging, 0o777 & ~umask)  # mkdtemp creates 0700; give the usual mode
        _swap_in(staging, target, kind)
    except BaseException:
        _remove(staging)
        raise


# ---------------------------------------------------------------------------- figures


def save_figure(fig: Any, path: str | Path, *, dpi: float = 90, **savefig_kwargs: Any) -> Path:
    """Render a matplotlib figure to ``path`` atomically (format from the suffix).

    The figure is rendered into memory and written with :func:`atomic_write_bytes`. A
    figure made through :mod:`matplotlib.pyplot` is closed afterwards; a bare
    :class:`matplotlib.figure.Figure` (the object-oriented API, which needs no backend
    switch) holds no global state and is left as it is. The user's backend is never
    changed.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
        Target file; its suffix (``.png``, ``.pdf``, ``.svg``, ...) picks the format.
    dpi : float, default 90
    **savefig_kwargs
        Passed on to :meth:`matplotlib.figure.Figure.savefig` (``bbox_inches``,
        ``metadata``, ...).

    Returns
    -------
    Path
        The written file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1))
    >>> _ = fig.subplots().plot([0, 1])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_figure(fig, pathlib.Path(d) / "f.png").read_bytes()[:4]
    b'\\x89PNG'
    """
    path = Path(path)
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format=path.suffix[1:].lower() or None, dpi=dpi, **savefig_kwargs)
    finally:
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is not None:  # a pyplot figure implies pyplot is imported; else nothing to do
            plt.close(fig)
    return atomic_write_bytes(path, buf.getvalue())
