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
    MANIFEST_NAME,
    atomic_write_bytes,
    atomic_write_text,
    check_output_dir,
    check_output_file,
    csv_text,
    output_set,
    read_csv,
    read_manifest,
    remove_stale_temporaries,
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


# ------------------------------------------------------------------ checking targets


def test_check_output_file_accepts_new_and_existing_files(tmp_path):
    assert check_output_file(tmp_path / "a" / "b" / "t.csv") == tmp_path / "a" / "b" / "t.csv"
    existing = tmp_path / "old.csv"
    existing.write_text("x")
    assert check_output_file(str(existing), name="--csv") == existing
    assert not (tmp_path / "a").exists()  # checking creates nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.csv"]


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda d: "", r"--csv='' must be a non-empty path"),
        (lambda d: "  ", r"--csv='  ' must be a non-empty path"),
        (lambda d: d, r"--csv='.*' must be a file path, not a directory"),
        (lambda d: d / "file.txt" / "t.csv", r"must not lie under '.*file.txt', which is a file"),
        (lambda d: d / "file.txt" / "x" / "t.csv", r"must not lie under '.*file.txt'"),
        # sysfs: no file can be created there, whoever runs the test (root included)
        (
            lambda d: "/sys/fbinit-test/t.csv",
            r"must be writable: files cannot be created in '/sys'",
        ),
    ],
    ids=["empty", "blank", "directory", "under-a-file", "deep-under-a-file", "read-only"],
)
def test_check_output_file_refusals(tmp_path, make, match):
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ParameterError, match=match):
        check_output_file(make(tmp_path), name="--csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"]


def test_check_output_file_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):  # root ignores permission bits: nothing to refuse
            assert check_output_file(folder / "t.csv") == folder / "t.csv"
        else:
            with pytest.raises(ParameterError, match="Permission denied"):
                check_output_file(folder / "t.csv")
    finally:
        folder.chmod(0o755)


def test_check_output_file_types():
    with pytest.raises(TypeError, match=r"path=3 must be a path"):
        check_output_file(3)
    with pytest.raises(TypeError, match=r"path=b'x' must be a path"):
        check_output_file(b"x")


def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "data" / "real.csv"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    assert check_output_file(link) == link
    write_csv(link, ["a"], [[1]])
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert real.read_text() == "a\n1\n"
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "data" / "new.csv")
    atomic_write_text(dangling, "new")
    assert dangling.is_symlink() and (tmp_path / "data" / "new.csv").read_text() == "new"


# --------------------------------------------------------------- stale temporaries


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def test_stale_temporaries_of_killed_runs_are_removed(tmp_path):
    dead = _dead_pid()
    stale = tmp_path / f".t.csv.{dead}.abcd1234.tmp"
    stale.write_text("half")
    live = tmp_path / f".t.csv.{os.getpid()}.efgh5678.tmp"
    live.write_text("being written")
    legacy_old = tmp_path / ".t.csv.ijkl9012.tmp"  # an older version's name, no pid
    legacy_old.write_text("half")
    os.utime(legacy_old, (1.0, 1.0))
    legacy_new = tmp_path / ".t.csv.mnop3456.tmp"
    legacy_new.write_text("maybe being written")
    other = tmp_path / f".u.csv.{dead}.abcd1234.tmp"
    other.write_text("another target's")
    write_csv(tmp_path / "t.csv", ["a"], [[1]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["t.csv", live.name, legacy_new.name, other.name]
    )


def test_stale_old_set_is_restored_if_the_target_is_missing(tmp_path):
    dead = _dead_pid()
    parked = tmp_path / f".out.{dead}.abcd1234.old"  # a swap killed between its renames
    parked.mkdir()
    (parked / "a.txt").write_text("previous set")
    assert remove_stale_temporaries(tmp_path, "out") == [parked]
    assert (tmp_path / "out" / "a.txt").read_text() == "previous set"


# ---------------------------------------------------------------------- output sets


def _write_set(folder, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def test_output_set_new_and_replaced(tmp_path):
    out = tmp_path / "out"
    with output_set(out, kind="demo", settings={"seed": 1, "sizes": np.arange(2)}) as folder:
        assert folder.parent == tmp_path and folder.name.startswith(".out.")
        _write_set(folder, {"a.txt": "1", "sub/b.txt": "2"})
        assert not out.exists()  # nothing appears before the set is complete
    manifest = read_manifest(out)
    assert manifest["kind"] == "demo" and manifest["files"] == ["a.txt", "sub/b.txt"]
    assert manifest["settings"] == {"seed": 1, "sizes": [0, 1]}
    (out / "sub" / "user.txt").write_text("mine")
    with output_set(out, kind="demo") as folder:
        _write_set(folder, {"c.txt": "3"})
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "c.txt",
        "manifest.json",
        "sub/user.txt",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_output_set_without_atomic_exchange(tmp_path, monkeypatch):
    out = tmp_path / "out"
    with output_set(out, kind="demo") as folder:
        _write_set(folder, {"a.txt": "1"})
    monkeypatch.setattr(_io, "_exchange", lambda a, b: False)  # the two-rename fallback
    with output_set(out, kind="demo") as folder:
        _write_set(folder, {"b.txt": "2"})
    assert sorted(p.name for p in out.iterdir()) == ["b.txt", "manifest.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda d: (d / "out").write_text("x"), r"out_dir='.*out' must be a directory"),
        (lambda d: _write_set(d / "out", {"a.txt": "1"}), r"holds 1 entry \('a.txt'\)"),
        (
            lambda d: _write_set(d / "out", {MANIFEST_NAME: '{"kind": "other", "files": []}'}),
            r"holds the output of 'other'",
        ),
    ],
    ids=["a-file", "foreign-folder", "other-kind"],
)
def test_output_set_refusals_come_before_the_work(tmp_path, setup, match):
    setup(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(ParameterError, match=match):
        with output_set(tmp_path / "out", kind="demo"):
            raise AssertionError("the block must not run")
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_output_set_refuses_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for target in (".", str(tmp_path.parent)):
        with pytest.raises(ParameterError, match="must not be the current folder or one of"):
            check_output_dir(target, kind="demo", name="--out")
    assert check_output_dir(".", kind=None) == tmp_path  # a plain folder to write into


def test_concurrent_output_sets_end_whole(tmp_path):
    """Processes writing sets into one folder at once: it ends as one whole set."""
    out = tmp_path / "out"
    code = (
        "import sys, time\n"
        "from fbinit._io import output_set\n"
        "tag = sys.argv[1]\n"
        "for i in range(20):\n"
        f"    with output_set({str(out)!r}, kind='demo', settings={{'tag': tag}}) as f:\n"
        "        for k in range(5):\n"
        "            (f / f'{k}.txt').write_text(tag)\n"
        "            time.sleep(0.001)\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, tag]) for tag in ("A", "B", "C")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    tag = read_manifest(out)["settings"]["tag"]
    assert {p.read_text() for p in out.glob("*.txt")} == {tag}
    assert sorted(p.name for p in out.iterdir()) == [*(f"{k}.txt" for k in range(5)), MANIFEST_NAME]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# ---------------------------------------------------------------------- CSV settings


def test_csv_settings_round_trip(tmp_path):
    settings = {"fbinit": "0.1.0", "seed": 7, "kernel_sizes": [8, 16], "clip": "a, b", "p": 0.05}
    path = write_csv_columns(tmp_path / "t.csv", {"x": [1.5, 2.5]}, settings=settings)
    assert path.read_text().startswith('# fbinit: "0.1.0"\n# seed: 7\n')
    assert read_csv(path) == (settings, {"x": ["1.5", "2.5"]})
    with pytest.raises(ParameterError, match="settings key='bad key' must be"):
        csv_text(["x"], [[1]], settings={"bad key": 1})
