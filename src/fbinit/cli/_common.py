"""Helpers shared by the commands: progress display and loading clips."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["progress", "load_clips", "load_clip_pairs"]


def progress(console: Console, label: str) -> Progress:
    return Progress(
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def load_clips(paths: Sequence[str]) -> dict:
    from fbinit import signals

    if not paths:
        return {name: signals.example(name)[0] for name in signals.list_examples()}
    return {Path(p).stem: signals.load(p)[0] for p in paths}


def load_clip_pairs(paths: Sequence[str], sample_rate: int | None) -> dict:
    from fbinit import signals

    if not paths:
        return {
            name: signals.example(name, sample_rate=sample_rate) for name in signals.list_examples()
        }
    return {Path(p).stem: signals.load(p, sample_rate=sample_rate) for p in paths}
