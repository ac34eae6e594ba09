"""Progress of a sweep: counts, elapsed time and the estimated time left.

The estimate is the throughput of this run so far (tasks finished per second, whatever
the number of workers) applied to the tasks still to run:

.. math:: t_{\\text{left}} = \\frac{t_{\\text{elapsed}}}{n_{\\text{finished}}}
          \\, (n_{\\text{to run}} - n_{\\text{finished}})

Tasks skipped because the store holds them count as done but not in the rate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["SweepProgress", "format_duration"]


def format_duration(seconds: float | None) -> str:
    """``H:MM:SS`` (``?`` when unknown).

    Examples
    --------
    >>> format_duration(3725.4), format_duration(None)
    ('1:02:05', '?')
    """
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class SweepProgress:
    """Where a sweep stands; updated by :func:`fbinit.sweep.run_sweep` after each task.

    Attributes
    ----------
    total : int
        Tasks of the sweep.
    skipped : int
        Already stored when the sweep started (not run again).
    finished : int
        Run by this sweep so far.
    failed : int
        Of ``finished``, those that raised.
    started : float
        ``time.monotonic()`` at the start.

    Examples
    --------
    >>> p = SweepProgress(total=10, skipped=2, started=0.0)
    >>> p.finished = 4
    >>> p.eta(now=8.0), p.line(now=8.0)
    (8.0, '6/10 tasks (2 stored before), 0 failed, elapsed 0:00:08, left ~0:00:08')
    """

    total: int
    skipped: int = 0
    finished: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def to_run(self) -> int:
        return self.total - self.skipped

    @property
    def completed(self) -> int:
        """Tasks stored, whether by this sweep or before it."""
        return self.skipped + self.finished

    def elapsed(self, now: float | None = None) -> float:
        return (time.monotonic() if now is None else now) - self.started

    def eta(self, now: float | None = None) -> float | None:
        """Seconds left at this run's throughput (None before the first task finishes)."""
        if self.finished == 0:
            return None if self.to_run else 0.0
        return self.elapsed(now) / self.finished * (self.to_run - self.finished)

    def line(self, now: float | None = None) -> str:
        """One plain line (for logs and output that is not a terminal)."""
        before = f" ({self.skipped} stored before)" if self.skipped else ""
        return (
            f"{self.completed}/{self.total} tasks{before}, {self.failed} failed, "
            f"elapsed {format_duration(self.elapsed(now))}, "
            f"left ~{format_duration(self.eta(now))}"
        )
