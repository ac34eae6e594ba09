"""Memory: estimates before work, and the peak RSS of commands (measured in subprocesses).

The commands of the issue (``fbinit scaling -J 5 -T 8 --draws 1000000`` peaked at 10 GB,
``--n-fft 8192 --draws 500000`` died at 11 GB) are measured at smaller but telling sizes:
the draws' working set used to grow with the draw count (a Littlewood-Paley sum of
N/2 + 1 floats per draw, 16 bytes each while the chunks were joined), and is now a chunk of
about 64 MB, whatever the count.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import pytest

from fbinit._memory import CHUNK_BYTES, format_bytes, memory_limit
from fbinit.cli import main


def peak_rss(*argv: str, env: dict | None = None) -> tuple[int, float]:
    """Exit status and peak resident set size (bytes) of ``fbinit argv`` in a fresh process."""
    code = (
        "import resource, sys\n"
        "from fbinit.cli import main\n"
        "status = main(sys.argv[1:])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)\n"
        "sys.exit(status)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})},
        timeout=600,
    )
    lines = done.stdout.strip().splitlines()
    return done.returncode, float(lines[-1]) if lines else float("nan")


def test_draw_working_set_does_not_grow_with_the_draw_count(tmp_path):
    """N = 8192, 20000 draws: 1.3 GB of Littlewood-Paley sums before, a chunk now."""
    small = ["scaling", "-J", "1", "-T", "8", "--n-fft", "8192", "--draws", "4"]
    status, baseline = peak_rss(*small)
    assert status == 0
    status, big = peak_rss(*small[:-1], "20000")
    assert status == 0
    growth = big - baseline
    # the old code held 20000 x 4097 x 16 bytes = 1.31 GB at once; now a chunk of about
    # CHUNK_BYTES (its sums twice while joined, the FFT's buffers, the allocator's slack)
    assert growth < 7 * CHUNK_BYTES, format_bytes(growth)


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["scaling", "-J", "5", "-T", "8", "--draws", "1000000000"], r"--draws|n_draws=1000000000"),
        (["scaling", "-J", "5", "-T", "8", "--n-fft", "1000000000"], r"n_fft=1000000000"),
        (["scaling", "-J", "10000000", "-T", "1024"], r"n_filters=10000000"),
        (["analyze", "-J", "5", "-T", "8", "--draws", "1000000000"], r"n_draws=1000000000"),
        (["report", "--out", "{out}", "--draws", "100000000"], r"n_draws=100000000"),
        (["report", "--out", "{out}", "--sample-rate", "1000000000000"], r"sample_rate="),
        (["report", "--out", "{out}", "--bank", "mel", "-T", "1000000"], r"kernel_size=1000000"),
        (["figures", "--out", "{out}", "--draws", "1000000000"], r"n_draws=1000000000"),
    ],
)
def test_what_cannot_fit_is_refused_with_its_estimate(tmp_path, capsys, argv, match):
    argv = [a.format(out=tmp_path / "out") for a in argv]
    assert main(argv) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "must be smaller" in err and "of memory, more than the limit of" in err, err
    assert re_search(match, err)
    assert not (tmp_path / "out").exists()


def re_search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


def test_memory_limit_can_be_raised(monkeypatch):
    monkeypatch.setenv("FBINIT_MEMORY_LIMIT", "4G")
    assert memory_limit() == 4 * 2**30
    monkeypatch.setenv("FBINIT_MEMORY_LIMIT", "1.5M")
    assert memory_limit() == int(1.5 * 2**20)
    monkeypatch.delenv("FBINIT_MEMORY_LIMIT")
    assert memory_limit() == 2**30


def test_summary_json_is_unchanged_by_the_limit(tmp_path, monkeypatch):
    out = tmp_path / "s.json"
    argv = ["analyze", "-J", "4", "-T", "16", "--draws", "20", "--json", str(out)]
    assert main(argv) == 0
    first = json.loads(out.read_text())
    monkeypatch.setenv("FBINIT_MEMORY_LIMIT", "1G")
    assert main(argv) == 0
    assert json.loads(out.read_text()) == first
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
