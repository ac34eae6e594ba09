"""Atomic file writes: an interrupted run never leaves a half-written result.

Every result file of fbinit (CSV tables, figures, reports) is written through these
helpers: the content is built in memory, written to a temporary file beside the target
and renamed into place, so the target is either as it was or complete.
"""

from __future__ import annotations

import csv
import io
import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from fbinit.errors import ParameterError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "csv_text",
    "save_figure",
    "write_csv",
    "write_csv_columns",
]


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual file mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Atomic counterpart of ``Path.write_text`` (UTF-8)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    r"""CSV text of a header row and data rows (``csv`` module quoting, ``\n`` line ends).

    Examples
    --------
    >>> csv_text(["a", "b"], [[1, "x,y"], [2.5, ""]])
    'a,b\n1,"x,y"\n2.5,\n'
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(path: str | Path, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Path:
    r"""Write a header row and data rows as a CSV file, atomically; return the path.

    The text is built in memory (:func:`csv_text`) and written with
    :func:`atomic_write_text`: an exception while building or writing leaves an existing
    file untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_csv(pathlib.Path(d) / "t.csv", ["n", "x"], [[1, 0.5], [2, 0.25]])
    ...     p.read_text()
    'n,x\n1,0.5\n2,0.25\n'
    """
    return atomic_write_text(path, csv_text(header, rows))


def write_csv_columns(path: str | Path, columns: Mapping[str, Any]) -> Path:
    r"""Write named columns of equal length (arrays or lists) as a CSV file, atomically.

    The keys are the header; each cell is the column's element as ``numpy.ndarray.tolist``
    gives it (floats at full precision).

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
    return write_csv(path, list(columns), zip(*cells, strict=True))


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
