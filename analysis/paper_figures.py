"""Reproduce the seven figures of Haider et al. (2024), "Instabilities in Convnets for Raw Audio".

Writes fig{N}_<slug>.png/.pdf/.csv for N = 1..7 (see fbinit.report.figures) and prints the
wall time. Clips of Figs. 1, 2 and 4: a synthetic snare, the bundled speech recording and a
synthetic flute, or the audio files given on the command line.

Run: ``.venv/bin/python analysis/paper_figures.py --out figures [AUDIO ...]``
e.g. ``.venv/bin/python analysis/paper_figures.py --out figures ../shared/audio/paper/*.wav``
"""

from __future__ import annotations

import os

# OpenMP threads that spin while waiting for work make torch many times slower on a busy
# 2-core machine (see docs/figures.md); set before torch is imported, unless the user did.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from fbinit.report.figures import write_figures  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", nargs="*", type=Path, help="clips (default: bundled speech)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--draws", type=int, default=1000, help="random banks per cell")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    def report(stage: str, done: int, total: int) -> None:
        print(f"[{done}/{total}] {time.perf_counter() - start:6.1f} s  {stage}", flush=True)

    start = time.perf_counter()
    paths = write_figures(
        args.out,
        clips=args.audio or None,
        n_draws=args.draws,
        seed=args.seed,
        progress=report,
    )
    elapsed = time.perf_counter() - start
    print(f"wrote {len(paths)} files to {args.out} in {elapsed:.1f} s (wall)")


if __name__ == "__main__":
    main()
