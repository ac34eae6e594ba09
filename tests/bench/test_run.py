"""The benchmark as a whole: planning, the store, resuming after a kill, the page in Chromium."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from fbinit.bench.run import TASKS, default_store, plan, run_bench
from fbinit.errors import ParameterError
from fbinit.sweep import ResultsStore

#: the task the kill test runs: several records of a few seconds each in tiny mode
KILL_TASK = "classify"


@pytest.fixture(scope="module")
def tiny_bench(tmp_path_factory):
    """Every task in tiny mode, once for the module."""
    out = tmp_path_factory.mktemp("bench") / "page"
    summary = run_bench(out, mode="tiny")
    return out, summary


def test_plan_has_every_task_and_checks_its_input():
    tasks = plan("tiny")
    assert list(tasks) == list(TASKS) and all(tasks.values())
    assert all(t.experiment.startswith("bench.") for ts in tasks.values() for t in ts)
    with pytest.raises(ParameterError, match="mode='fast' must be one of"):
        plan("fast")
    with pytest.raises(ParameterError, match="tasks entry 'speed' must be one of"):
        plan("tiny", ["speed"])
    with pytest.raises(ParameterError, match="tasks="):
        plan("tiny", [])


def test_tiny_bench_stores_every_record_and_writes_the_page(tiny_bench):
    out, summary = tiny_bench
    assert summary.failed == 0, [(f.task.label, f.error_message) for f in summary.failures]
    planned = sum(len(ts) for ts in plan("tiny").values())
    assert summary.done == planned
    with ResultsStore(default_store(out)) as store:
        assert len(store.rows(status="done")) == planned
    records = json.loads((out / "records.json").read_text())
    assert sum(map(len, records.values())) == planned
    for task, recs in records.items():
        for r in recs:
            assert {"task", "frontend", "n_params", "wall_s"} <= set(r), (task, sorted(r))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "fbinit bench" and manifest["settings"]["mode"] == "tiny"
    md = (out / "bench.md").read_text()
    for title in ("Distillation", "Conditioning", "predict training", "Classification"):
        assert title.lower() in md.lower(), title
    for image in (out / "img").iterdir():
        assert f"img/{image.name}" in md


def test_second_run_repeats_nothing(tiny_bench):
    out, _ = tiny_bench
    again = run_bench(out, mode="tiny")
    assert again.done == 0 and again.skipped == again.total


def test_report_only_writes_the_page_from_stored_records(tiny_bench, tmp_path):
    out, _ = tiny_bench
    page = tmp_path / "again"
    summary = run_bench(page, mode="tiny", store=default_store(out), report_only=True)
    assert summary.done == summary.failed == 0 and summary.page == page / "bench.html"
    assert json.loads((page / "records.json").read_text()) == json.loads(
        (out / "records.json").read_text()
    )
    manifest = json.loads((page / "manifest.json").read_text())
    assert manifest["settings"]["missing"] == 0
    empty = run_bench(tmp_path / "none", mode="tiny", store=tmp_path / "s.sqlite", report_only=True)
    assert empty.page is None and not (tmp_path / "none").exists()


def test_page_renders_in_chromium(tiny_bench, chromium_factory):
    out, _ = tiny_bench
    browser = chromium_factory("--window-size=1200,900")
    browser.get((out / "bench.html").as_uri())
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "Array.from(document.images).every(i => i.complete)"
        )
    )
    images = browser.execute_script(
        "return Array.from(document.images).map(i => ({w: i.naturalWidth, h: i.naturalHeight}))"
    )
    assert len(images) == len(list((out / "img").iterdir())) > 4
    assert all(i["w"] > 100 and i["h"] > 100 for i in images)
    assert browser.title == "fbinit frontend benchmark"


def _done_rows(store: Path) -> dict[tuple, str]:
    if not store.exists():
        return {}
    with sqlite3.connect(store, timeout=30) as conn:
        try:
            rows = conn.execute(
                "SELECT experiment, config_hash, seed, finished_at FROM tasks WHERE status='done'"
            ).fetchall()
        except sqlite3.OperationalError:  # the table is being created
            return {}
    return {tuple(r[:3]): r[3] for r in rows}


def test_killed_bench_resumes_without_repeating_records(tmp_path):
    out, store = tmp_path / "page", tmp_path / "store.sqlite"
    cmd = [sys.executable, "-m", "fbinit.cli", "bench", "--mode", "tiny", "--tasks", KILL_TASK]
    cmd += ["--out", str(out), "--store", str(store), "--workers", "1"]
    total = len(plan("tiny", [KILL_TASK])[KILL_TASK])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while len(_done_rows(store)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the run finished before it could be killed: give it more records"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = _done_rows(store)
    assert 2 <= len(before) < total and not out.exists()

    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    after = _done_rows(store)
    assert len(after) == total
    assert all(after[key] == finished for key, finished in before.items())  # not run again
    assert f"{total - len(before)} done" in done.stdout
    assert (out / "bench.html").exists()


def test_cli_refuses_bad_input_before_any_work(tmp_path, capsys):
    from fbinit.cli import main

    assert main(["bench", "--mode", "tiny", "--tasks", "nope", "--out", str(tmp_path / "o")]) == 2
    assert "tasks entry 'nope' must be one of" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert (
        main(["bench", "--mode", "tiny", "--tasks", KILL_TASK, "--out", str(tmp_path / "file")])
        == 2
    )
    assert not default_store(tmp_path / "file").exists()
