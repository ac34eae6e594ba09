"""What each benchmark task contributes to the benchmark page: tables, figures, findings.

Each task module of :mod:`fbinit.bench` has a ``section(records)`` function that turns its
stored records into a :class:`Section`; :mod:`fbinit.bench.report` renders the sections as
one HTML page and its Markdown twin. Text is plain (it is escaped when rendered); numbers
are formatted by the task (:func:`mean_sd`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

__all__ = ["Section", "Table", "mean_sd"]


@dataclass
class Table:
    """A table: a header, rows of formatted cells, and a caption."""

    header: list[str]
    rows: list[list[str]]
    caption: str = ""

    def __post_init__(self) -> None:
        bad = [r for r in self.rows if len(r) != len(self.header)]
        if bad:
            raise ValueError(f"row {bad[0]} must have {len(self.header)} cells like the header")


@dataclass
class Section:
    """One task's part of the benchmark page.

    Attributes
    ----------
    key : str
        Short identifier (file names of its figures start with it).
    title : str
    findings : list of str
        Plain sentences that say what the numbers show (a null result too).
    tables : list of Table
    figures : list of (name, Figure)
        Matplotlib figures; ``name`` is a file stem without spaces.
    """

    key: str
    title: str
    findings: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[tuple[str, Figure]] = field(default_factory=list)


def mean_sd(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> str:
    """``"m ± s"`` of the finite values times ``scale`` (sd with ddof 1; ``"m"`` for one).

    Examples
    --------
    >>> mean_sd([0.021, 0.023], scale=100)
    '2.20 ± 0.14'
    >>> mean_sd([])
    '–'
    """
    v = np.asarray([x for x in values if x is not None], dtype=float) * scale
    v = v[np.isfinite(v)]
    if v.size == 0:
        return "–"
    if v.size == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"
