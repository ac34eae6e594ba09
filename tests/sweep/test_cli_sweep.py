"""`fbinit sweep`, `fbinit results` and the sweep options of `fbinit scaling`, in process."""

from __future__ import annotations

import csv
import json
import sqlite3

import numpy as np
import pytest

from fbinit._io import read_csv
from fbinit.analysis import condition_number_stats
from fbinit.cli import main
from fbinit.sweep import ResultsStore

TOYS = """
experiment = "toy.draws"
imports = ["sweep_toys"]
seeds = [0, 1]
store = "toys.sqlite"

[fixed]
fail_while = "{flag}"

[grid]
n = [2, 3]
scale = [1.0, 2.0]
"""


@pytest.fixture
def toys(tmp_path):
    """A sweep file of 8 toy tasks; those with scale 2.0 fail while the flag file exists."""
    path = tmp_path / "toys.toml"
    path.write_text(TOYS.format(flag=""))
    return path


def stored(path):
    with ResultsStore(path, readonly=True) as store:
        return store.rows()


def test_sweep_runs_then_resumes(toys, capsys):
    assert main(["sweep", str(toys), "--workers", "1", "--progress-every", "0"]) == 0
    out = capsys.readouterr().out
    assert "experiment 'toy.draws', 8 tasks; store" in out and "holds 0 done and 0 failed" in out
    assert "running on serial (this process)" in out
    assert "sweep: 8/8 tasks, 0 failed, elapsed" in out and "left ~0:00:00" in out
    assert "ran 8 tasks in" in out and "8 done, 0 failed; 0 were stored before" in out
    rows = stored(toys.parent / "toys.sqlite")
    assert len(rows) == 8 and {r.status for r in rows} == {"done"}
    assert main(["sweep", str(toys), "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "holds 8 done" in out and "ran 0 tasks" in out and "8 were stored before" in out
    assert stored(toys.parent / "toys.sqlite") == rows


def test_failures_are_summarised_and_retried(tmp_path, capsys):
    flag = tmp_path / "flag"
    flag.touch()
    toys = tmp_path / "toys.toml"
    text = TOYS.replace('fail_while = "{flag}"', "").replace("scale = [1.0, 2.0]", "")
    toys.write_text(text + f'fail_while = ["", "{flag}"]\n')
    argv = ["sweep", str(toys), "--workers", "1"]
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "4 done, 4 failed" in out and "4 tasks failed (stored with their traceback):" in out
    assert "builtins.ValueError: toy failure at scale=1.0" in out
    assert "--retry-failed" in out
    assert main(argv) == 1  # failures stay until retried
    assert "ran 0 tasks" in capsys.readouterr().out
    flag.unlink()
    assert main([*argv, "--retry-failed"]) == 0
    assert "4 done, 0 failed; 4 were stored before" in capsys.readouterr().out
    assert {(r.status, r.attempts) for r in stored(tmp_path / "toys.sqlite")} == {
        ("done", 1),
        ("done", 2),
    }


def test_dry_run_and_store_option(toys, tmp_path, capsys):
    other = tmp_path / "elsewhere" / "runs.sqlite"
    assert main(["sweep", str(toys), "--store", str(other), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("[to run]") == 8 and "n=3, scale=2.0" in out
    assert stored(other) == [] and not (tmp_path / "toys.sqlite").exists()


def test_bad_sweep_files_are_one_line_errors(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('experiment = "scaling"\n[grid]\nn_filters = [5, -1]\nkernel_size = [8]\n')
    assert main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "n_filters=-1 must be an integer >= 1" in err
    assert str(path) in err
    assert main(["sweep", str(tmp_path / "missing.toml")]) == 2
    assert "must be an existing TOML file" in capsys.readouterr().err
    assert main(["sweep", str(path), "--workers", "0"]) == 2


def test_results_lists_filters_and_exports(toys, tmp_path, capsys):
    flag = tmp_path / "flag"
    flag.touch()
    toys.write_text(TOYS.format(flag=flag))
    assert main(["sweep", str(toys), "--workers", "1"]) == 1
    store = str(tmp_path / "toys.sqlite")
    capsys.readouterr()
    assert main(["results", store]) == 0
    out = capsys.readouterr().out
    assert "8 rows (0 done, 8 failed); toy.draws: 8" in out
    flag.unlink()
    assert main(["sweep", str(toys), "--workers", "1", "--retry-failed"]) == 0
    capsys.readouterr()
    assert main(["results", store, "--where", "n=3", "--where", "scale=2.0"]) == 0
    out = capsys.readouterr().out
    assert "2 rows (2 done, 0 failed)" in out and "mean=" in out
    csv_path, pq_path = tmp_path / "r.csv", tmp_path / "r.parquet"
    argv = ["results", store, "--status", "done", "--csv", str(csv_path), "--parquet", str(pq_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"wrote {csv_path} (8 rows)" in out and f"wrote {pq_path} (8 rows)" in out
    with csv_path.open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 8 and all(len(json.loads(r["result.draws"])) in (2, 3) for r in table)
    import pyarrow.parquet as parquet

    assert parquet.read_table(pq_path).num_rows == 8
    assert main(["results", store, "--experiment", "scaling"]) == 0
    assert "0 rows" in capsys.readouterr().out


def test_results_errors_are_one_line(tmp_path, capsys):
    junk = tmp_path / "junk.sqlite"
    junk.write_text("not a database")
    for argv, match in (
        (["results", str(tmp_path / "missing.sqlite")], "does not exist"),
        (["results", str(junk)], "is not an SQLite database"),
        (["results", str(junk), "--where", "n"], "must be KEY=VALUE"),
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and match in err


def test_scaling_with_a_store_reuses_its_cells(tmp_path, capsys):
    store, table = tmp_path / "cells.sqlite", tmp_path / "grid.csv"
    argv = ["scaling", "-J", "6", "12", "-T", "8", "16", "--draws", "20", "--workers", "1"]
    argv += ["--store", str(store), "--csv", str(table)]
    assert main(argv) == 0
    first = {r.key: r.finished_at for r in stored(store)}
    assert len(first) == 4
    assert main(argv) == 0
    assert {r.key: r.finished_at for r in stored(store)} == first
    settings, columns = read_csv(table)
    medians = [float(v) for v in columns["median_kappa"]]
    assert settings["seed"] == 0
    ref = condition_number_stats([6, 12], [8, 16], n_fft=None, n_draws=20, seed=0)
    np.testing.assert_array_equal(medians, ref.median_kappa)
    conn = sqlite3.connect(store)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_an_interrupt_is_one_line_and_exit_130(monkeypatch, capsys):
    import fbinit.cli.results as results

    def interrupted(args, console):
        raise KeyboardInterrupt

    monkeypatch.setattr(results, "run", interrupted)
    assert main(["results", "whatever.sqlite"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "interrupted: what was finished is kept\n" and captured.out == ""


def test_progress_on_a_terminal_is_a_bar_with_the_time_left():
    import io

    from rich.console import Console

    from fbinit.cli.sweep import ProgressDisplay
    from fbinit.sweep import SweepProgress

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    with ProgressDisplay(console, "sweep") as show:
        state = SweepProgress(total=10, skipped=2, started=0.0)
        show(state)
        state.finished, state.failed = 3, 1
        show(state)
        fields = show._bar.tasks[0]
        assert (fields.completed, fields.total, fields.fields["failed"]) == (5, 10, 1)
        assert fields.fields["eta"] != "?"
    console.file.flush()
    assert "5/10 tasks, 1 failed" in out.getvalue() and "left ~" in out.getvalue()


def test_warnings_are_counted_and_listed(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # the listing's table on one line per row
    path = tmp_path / "warns.toml"
    path.write_text('experiment = "toy.warns"\nimports = ["sweep_toys"]\nseeds = [0, 1]\n')
    assert main(["sweep", str(path), "--workers", "1"]) == 0
    assert "2 raised warnings (kept in their rows)" in capsys.readouterr().out
    assert main(["results", str(tmp_path / "warns.sqlite")]) == 0
    assert "[2 warnings: RuntimeWarning: a degenerate toy]" in capsys.readouterr().out


def test_figures_run_their_monte_carlo_as_sweep_tasks_on_request(tmp_path, monkeypatch):
    import fbinit.report.figures as figures
    from fbinit.sweep import SweepRunner

    seen = []

    def fake_write_figures(out, *, runner=None, **kwargs):
        seen.append(runner)
        return []

    monkeypatch.setattr(figures, "write_figures", fake_write_figures)
    assert main(["figures", "--out", str(tmp_path / "a"), "--draws", "3"]) == 0
    store = tmp_path / "cells.sqlite"
    argv = ["figures", "--out", str(tmp_path / "b"), "--store", str(store), "--workers", "1"]
    assert main(argv) == 0
    assert main(["figures", "--out", str(tmp_path / "c"), "--workers", "1"]) == 0
    assert seen[0] is None  # batched in this process by default
    assert isinstance(seen[1], SweepRunner) and seen[1].store is not None
    assert isinstance(seen[2], SweepRunner) and seen[2].store is None
    assert store.exists()
