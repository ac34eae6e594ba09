"""Helpers shared by the commands: output checks, progress display and loading clips."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from fbinit._io import check_output_dir, check_output_file

__all__ = [
    "escape",
    "load_clip_pairs",
    "load_clips",
    "output_dir",
    "output_file",
    "progress",
]


def progress(console: Console, label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def output_file(option: str, value: str | None) -> Path | None:
    """Check an output-file option before any work (None: not given); return it as a Path."""
    return None if value is None else check_output_file(value, name=option)


def output_dir(option: str, value: str, kind: str | None) -> Path:
    """Check an output-folder option before any work (see fbinit._io.check_output_dir)."""
    check_output_dir(value, kind=kind, name=option)
    return Path(value)


def load_clips(paths: Sequence[str]) -> dict:
    """Name -> mono signal of the files (names from signals.clip_names), or the examples."""
    from fbinit import signals

    if not paths:
        return {name: signals.example(name)[0] for name in signals.list_examples()}
    names = signals.clip_names(paths)
    return {name: signals.load(p)[0] for name, p in zip(names, paths, strict=True)}


def load_clip_pairs(paths: Sequence[str], sample_rate: int | None) -> dict:
    """Name -> (signal, sample rate) of the files, resampled to ``sample_rate`` if given."""
    from fbinit import signals

    if not paths:
        return {
            name: signals.example(name, sample_rate=sample_rate) for name in signals.list_examples()
        }
    names = signals.clip_names(paths)
    return {
        name: signals.load(p, sample_rate=sample_rate) for name, p in zip(names, paths, strict=True)
    }
