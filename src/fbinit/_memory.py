"""Memory estimates made before any work: what cannot fit is refused with its estimate.

Functions that allocate in proportion to their arguments (draws, filters, taps, signal
lengths) estimate their peak working set first and call :func:`check_memory`, which raises
a :class:`~fbinit.errors.ParameterError` naming the arguments and the estimate when it
exceeds :func:`memory_limit`. Work over many draws is done in chunks of about
:data:`CHUNK_BYTES` (:func:`chunk_count`), so the peak does not grow with the draw count
beyond what the results themselves take.

The limit is 1 GiB of data by default, which keeps a command (with the ~0.4 GB that Python,
numpy, scipy and torch take on their own) under 2 GB; the environment variable
``FBINIT_MEMORY_LIMIT`` sets another (bytes, or a number with a K, M, G or T suffix, powers
of 1024).
"""

from __future__ import annotations

import math
import os
import re

from fbinit.errors import ParameterError

__all__ = [
    "CHUNK_BYTES",
    "DEFAULT_MEMORY_LIMIT",
    "MEMORY_LIMIT_ENV",
    "check_memory",
    "chunk_count",
    "format_bytes",
    "memory_limit",
    "total_bytes",
]

#: environment variable that sets the memory limit
MEMORY_LIMIT_ENV = "FBINIT_MEMORY_LIMIT"
#: memory limit (bytes of data) when the environment variable is not set
DEFAULT_MEMORY_LIMIT = 2**30
#: bytes of working set of one chunk of draws, filters or signals
CHUNK_BYTES = 64 * 2**20

_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_limit() -> int:
    """The memory limit in bytes: ``FBINIT_MEMORY_LIMIT`` if set, else 1 GiB.

    Raises
    ------
    ParameterError
        If the variable is set to something else than a positive size.
    """
    text = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if not text:
        return DEFAULT_MEMORY_LIMIT
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text, flags=re.IGNORECASE)
    if match is None or float(match.group(1)) <= 0:
        raise ParameterError(
            f"{MEMORY_LIMIT_ENV}={text!r} must be a number of bytes > 0, optionally with a "
            "K, M, G or T suffix (e.g. 4G)"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def format_bytes(n_bytes: float) -> str:
    """A byte count for messages: ``'1.5 GB'`` (powers of 1024, three significant digits).

    Examples
    --------
    >>> format_bytes(1536), format_bytes(3 * 2**30), format_bytes(10)
    ('1.50 KB', '3.00 GB', '10 B')
    """
    if n_bytes < 1024:
        return f"{int(n_bytes)} B"
    for unit in ("KB", "MB", "GB", "TB", "PB"):
        n_bytes /= 1024
        if n_bytes < 1024 or unit == "PB":
            return f"{n_bytes:.3g} {unit}" if n_bytes >= 100 else f"{n_bytes:.2f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def check_memory(
    arguments: str, n_bytes: float, what: str, *, rule: str = "must be smaller"
) -> None:
    """Raise if ``n_bytes`` exceeds the memory limit, naming ``arguments`` and the estimate.

    Parameters
    ----------
    arguments : str
        The arguments responsible, as the message shows them (``"n_draws=10000000"``).
    n_bytes : float
        The estimated peak working set.
    what : str
        What needs it (``"the frame bounds of one grid cell"``).
    rule : str
        What to change, when making the arguments smaller is not it (``"must be larger"``).

    Examples
    --------
    >>> check_memory("n_draws=10", 800.0, "the draws")  # fits: nothing happens
    >>> check_memory("n_draws=10**12", 8e12, "the draws")
    Traceback (most recent call last):
    ...
    fbinit.errors.ParameterError: n_draws=10**12 must be smaller: the draws would take about \
7.28 TB of memory, more than the limit of 1.00 GB (set FBINIT_MEMORY_LIMIT to allow more)
    """
    limit = memory_limit()
    if not n_bytes <= limit:  # also catches nan and inf
        amount = f"about {format_bytes(n_bytes)}" if math.isfinite(n_bytes) else "unbounded amounts"
        raise ParameterError(
            f"{arguments} {rule}: {what} would take {amount} "
            f"of memory, more than the limit of {format_bytes(limit)} (set {MEMORY_LIMIT_ENV} "
            "to allow more)"
        )


def chunk_count(bytes_per_item: float, budget: float = CHUNK_BYTES) -> int:
    """How many items of ``bytes_per_item`` fit in ``budget`` (at least 1).

    Examples
    --------
    >>> chunk_count(1024, budget=4096), chunk_count(10**12)
    (4, 1)
    """
    return max(1, int(budget // max(bytes_per_item, 1)))


def total_bytes(*terms: float) -> float:
    """Sum of byte counts, inf if any term is not finite (products of huge ints overflow)."""
    total = 0.0
    for term in terms:
        term = float(term)
        if not math.isfinite(term):
            return math.inf
        total += term
    return total
