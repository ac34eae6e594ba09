"""Atomic result writers: round trips, no temporary files left, old file kept on failure."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from fbinit import _io
from fbinit._io import (
    atomic_write_bytes,
    atomic_write_text,
    csv_text,
    save_figure,
    write_csv,
    write_csv_columns,
)
from fbinit.errors import ParameterError


def _figure() -> Figure:
    fig = Figure(figsize=(2.0, 1.5))
    fig.subplots().plot([0.0, 1.0, 0.5])
    return fig


def _boom(*args, **kwargs):
    raise OSError("disk full")


# ------------------------------------------------------------------------- round trips


def test_atomic_write_round_trip_and_no_temp_files(tmp_path):
    target = tmp_path / "sub" / "a.bin"
    assert atomic_write_bytes(target, b"\x00\x01") == target
    assert target.read_bytes() == b"\x00\x01"
    assert atomic_write_text(target, "é\n") == target  # replaces, UTF-8
    assert target.read_bytes() == "é\n".encode()
    assert [p.name for p in target.parent.iterdir()] == ["a.bin"]


def test_write_csv_round_trip(tmp_path):
    rows = [["a", 1, 0.1], ["b,c", -2, float("inf")], ['quote "q"', 0, ""]]
    path = write_csv(tmp_path / "t.csv", ["name", "n", "x"], rows)
    assert path == tmp_path / "t.csv"
    with path.open(newline="") as fh:
        back = list(csv.reader(fh))
    assert back == [["name", "n", "x"], *[[str(c) for c in r] for r in rows]]
    assert b"\r" not in path.read_bytes()  # "\n" line ends
    assert path.read_text() == csv_text(["name", "n", "x"], rows)
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]


def test_write_csv_accepts_a_generator_of_rows(tmp_path):
    path = write_csv(tmp_path / "g.csv", ("k", "k2"), ([k, k * k] for k in range(3)))
    assert path.read_text() == "k,k2\n0,0\n1,1\n2,4\n"


def test_write_csv_columns_round_trip_full_precision(tmp_path):
    x = np.random.default_rng(0).standard_normal(5)
    cols = {"i": np.arange(5), "label": ["p", "q", "r", "s", "t"], "x": x}
    path = write_csv_columns(tmp_path / "c.csv", cols)
    with path.open(newline="") as fh:
        back = list(csv.DictReader(fh))
    assert list(back[0]) == ["i", "label", "x"]
    assert [int(r["i"]) for r in back] == list(range(5))
    assert [r["label"] for r in back] == cols["label"]
    np.testing.assert_array_equal([float(r["x"]) for r in back], x)  # exact: repr round trip
    assert [p.name for p in tmp_path.iterdir()] == ["c.csv"]


def test_write_csv_columns_rejects_unequal_lengths(tmp_path):
    with pytest.raises(ParameterError, match=r"column lengths=\{'a': 2, 'b': 3\} must be equal"):
        write_csv_columns(tmp_path / "c.csv", {"a": [1, 2], "b": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF")])
def test_save_figure_format_from_suffix(tmp_path, suffix, magic):
    fig = _figure()
    path = save_figure(fig, tmp_path / f"f{suffix}")
    assert path == tmp_path / f"f{suffix}"
    assert path.read_bytes().startswith(magic)
    assert [p.name for p in tmp_path.iterdir()] == [f"f{suffix}"]


def test_save_figure_writes_what_savefig_renders(tmp_path):
    fig = _figure()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50, metadata={"Software": None})
    path = save_figure(fig, tmp_path / "f.png", dpi=50, metadata={"Software": None})
    assert path.read_bytes() == buf.getvalue()  # same dpi and kwargs: the same bytes
    smaller = save_figure(fig, tmp_path / "g.png", dpi=25, metadata={"Software": None})
    assert smaller.stat().st_size < path.stat().st_size  # dpi is honoured


def test_save_figure_closes_pyplot_figures(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    assert plt.fignum_exists(fig.number)
    save_figure(fig, tmp_path / "p.png")
    assert not plt.fignum_exists(fig.number)


def test_library_keeps_the_users_backend():
    # a fresh interpreter: importing fbinit's plotting modules and saving a figure must not
    # switch the backend the user picked (here "svg", an unusual but valid choice)
    code = (
        "import matplotlib, pathlib, tempfile\n"
        "matplotlib.use('svg')\n"
        "import fbinit.report.html, fbinit.report.figures\n"
        "import fbinit.theory.diederen2026_linear_cnn_flow.experiment\n"
        "import fbinit.theory.du2018_conv_filter.experiment\n"
        "import fbinit.theory.ergen2021_convex_cnn.experiment\n"
        "import fbinit.theory.yu2019_two_layer_cnn.experiment\n"
        "from fbinit.theory.ergen2021_convex_cnn.experiment import plot_pattern_growth\n"
        "growth = {k: [2, 3] for k in ('n', 'bound', 'exact', 'sampled')}\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    png = plot_pattern_growth(growth, pathlib.Path(d) / 'g.png')\n"
        "    assert png.read_bytes()[:4] == b'\\x89PNG'\n"
        "print(matplotlib.get_backend())\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "svg"


# ------------------------------------------------------- failure mid-write keeps old file


@pytest.mark.parametrize(
    "write",
    [
        lambda p: atomic_write_bytes(p, b"new"),
        lambda p: atomic_write_text(p, "new"),
        lambda p: write_csv(p, ["a"], [[1]]),
        lambda p: write_csv_columns(p, {"a": [1]}),
        lambda p: save_figure(_figure(), p),
    ],
    ids=["bytes", "text", "csv", "csv_columns", "figure"],
)
def test_failed_replace_leaves_old_file_and_no_temp(tmp_path, monkeypatch, write):
    target = tmp_path / "result.png"
    target.write_bytes(b"old")
    monkeypatch.setattr(_io.os, "replace", _boom)
    with pytest.raises(OSError, match="disk full"):
        write(target)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]


def test_failure_while_building_rows_leaves_old_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")

    def rows():
        yield [1]
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        write_csv(target, ["a"], rows())
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]
