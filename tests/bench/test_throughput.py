"""Tests of the throughput task: FLOP counts, records, every frontend in tiny mode, errors."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from fbinit.bench import _peers
from fbinit.bench import throughput as tp
from fbinit.bench.section import Section
from fbinit.errors import ParameterError
from fbinit.frontends import ConvFrontend, registry
from fbinit.frontends.engine import plan as engine_plan
from fbinit.sweep import make_task

TINY = dict(tp.plan("tiny")[0][0])
TINY.pop("frontend")

REQUIRED = (
    "task",
    "frontend",
    "n_params",
    "wall_s",
    "ms_median",
    "ms_iqr",
    "cpu_ms_median",
    "ratio_to_mel",
    "clips_per_s",
    "peak_memory_mb",
    "flops_per_sample",
    "matmul_gflops",
    "gflops_achieved",
    "fraction_of_matmul_rate",
    "protocol",
)


@pytest.fixture(scope="module")
def tiny_records() -> list[dict]:
    return [tp.run_throughput(**p, seed=s) for p, seeds in tp.plan("tiny") for s in seeds]


def test_direct_conv_flops_hand_count_and_flop_counter():
    # 4 real kernels of 16 taps at stride 4 on 1000 samples ("same": 251 frames):
    # 2 J K M / N = 2 * 4 * 16 * 251 / 1000 FLOP per sample
    frontend = ConvFrontend(4, 16, stride=4, method="direct", seed=0)
    terms, algorithms = tp.frontend_flops(frontend, 2, 1000)
    assert algorithms == ["direct"]
    assert set(terms) == {"analysis"}
    assert terms["analysis"] == pytest.approx(2 * 4 * 16 * 251 / 1000, rel=1e-12)
    # independent count: torch's FLOP counter on the forward pass (2 per multiply-add)
    with FlopCounterMode(display=False) as counter:
        frontend(torch.randn(2, 1000))
    assert terms["analysis"] * 2 * 1000 == pytest.approx(counter.get_total_flops(), rel=1e-9)


def test_complex_kernels_count_twice_and_stages_are_added():
    real = tp._conv_flops(1, 4000, 10, 64, stride=8, padding="same", complex_kernels=False)
    cplx = tp._conv_flops(1, 4000, 10, 64, stride=8, padding="same", complex_kernels=True)
    assert real[1] == "direct" and cplx[0] == pytest.approx(2 * real[0])
    # LEAF preset: power (3 per complex value), Gaussian pooling 2 C Kp per pooled frame,
    # PCEN 10 per output value
    leaf = registry.create("leaf")
    terms, _ = tp.frontend_flops(leaf, 8, 16000)
    assert terms["modulus"] == pytest.approx(3 * 40, rel=1e-3)
    pooled = (16000 + 2 * 200 - 401) // 160 + 1
    assert terms["pooling"] == pytest.approx(2 * 40 * 401 * pooled / 16000, rel=1e-9)
    assert terms["compression"] == pytest.approx(10 * 40 * pooled / 16000, rel=1e-9)


def test_fft_flops_follow_the_reference_form():
    # LEAF's 40 complex 401-tap kernels at stride 1 take the FFT path; the count should be
    # about (J + 1) c log2 F with c = 2.5 F / P, plus 8 (F/2 + 1) / P per kernel for the
    # products (J = 80 real kernels), the kernels' own FFTs amortised over the batch
    chosen = engine_plan(8, 40, 401, 16000, complex_kernels=True)
    assert chosen.method == "fft"
    flops, algorithm, _ = tp._conv_flops(
        8, 16000, 40, 401, stride=1, padding="same", complex_kernels=True
    )
    size = chosen.fft_size
    per_block = size - 401 + 1
    approx = 81 * 2.5 * size / per_block * math.log2(size) + 80 * 8 * (size / 2 + 1) / per_block
    assert algorithm == f"fft(F={size})"
    assert flops == pytest.approx(approx, rel=0.1)
    # far fewer than the direct count 2 * 80 * 401 per sample
    assert flops < 0.2 * 2 * 80 * 401


def test_peer_flops_hand_count():
    assert sum(_peers.peer_flops("peer:asteroid-paramsinc").values()) == 2 * 80 * 251
    free = _peers.peer_flops("peer:asteroid-free")
    assert sum(free.values()) == pytest.approx(2 * 80 * 401 / 160)
    mel = _peers.peer_flops(_peers.MEL_REFERENCE)
    assert mel["projection"] == pytest.approx(2 * 40 * 257 / 160)
    # about 140-210 FLOP per sample for a mel spectrogram (the reference says about 140)
    assert 140 <= sum(mel.values()) <= 250


def test_paramsinc_flops_match_flop_counter():
    module = _peers.make("peer:asteroid-paramsinc")
    with FlopCounterMode(display=False) as counter:
        module(torch.randn(1, 2000))
    # valid correlation: 2000 - 251 + 1 outputs per kernel (the analytic count assumes N)
    assert counter.get_total_flops() / 2000 == pytest.approx(2 * 80 * 251, rel=0.15)


def test_records_are_json_with_required_keys(tiny_records):
    assert [r["frontend"] for r in tiny_records] == ["conv-kaiming", "leaf", "mel", "naive-leaf"]
    for record in tiny_records:
        json.dumps(record, allow_nan=False)
        assert set(REQUIRED) <= set(record)
        assert record["task"] == "throughput"
        assert record["ms_median"] > 0 and record["ratio_to_mel"] > 0
        assert record["clips_per_s"] == pytest.approx(1e3 * record["batch"] / record["ms_median"])
        assert record["gflops_achieved"] == pytest.approx(
            2
            * record["flops_per_sample"]
            * record["batch"]
            * record["n_samples"]
            / record["ms_median"]
            / 1e6
        )
        assert not record["full_protocol"]
    by_name = {r["frontend"]: r for r in tiny_records}
    assert by_name["leaf"]["n_params"] == 280 and by_name["mel"]["n_params"] == 0
    # the naive LEAF computes the same Gabor correlation directly: 2 * 80 * 401 per sample
    assert by_name["naive-leaf"]["flop_terms"]["analysis"] == 2 * 80 * 401


def test_peak_memory_counts_allocations():
    peak = tp.peak_memory_mb(lambda: torch.empty(2**20).fill_(1.0))  # 4 MiB of float32
    assert peak is not None, "the torch profiler of the pinned torch reports allocations"
    assert peak == pytest.approx(4.0, rel=0.05)


def test_time_interleaved_runs_each_step_in_turn():
    calls = []
    steps = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    out = tp.time_interleaved(steps, repeats=3, warmup=1)
    assert calls == ["a", "b"] * 4
    assert all(len(walls) == len(cpus) == 3 for walls, cpus in out.values())


@pytest.mark.parametrize("name", registry.names())
def test_every_registry_frontend_runs_in_tiny_mode(name):
    record = tp.run_throughput(frontend=name, **{**TINY, "profile_memory": False}, seed=0)
    json.dumps(record, allow_nan=False)
    assert record["frontend"] == name and record["kind"] == "fbinit"
    assert record["flops_per_sample"] > 0 and record["ms_median"] > 0


def test_unknown_and_missing_peers_raise(monkeypatch):
    with pytest.raises(ParameterError, match="frontend='peer:nope' must be one of"):
        tp.run_throughput(frontend="peer:nope", **TINY, seed=0)
    with pytest.raises(ParameterError, match="frontend='peer:nope'"):
        make_task(tp.EXPERIMENT, {"frontend": "peer:nope"})
    _, text, factory = _peers.PEERS["peer:murenn"]
    monkeypatch.setitem(_peers.PEERS, "peer:murenn", ("no_such_module_fbinit", text, factory))
    with pytest.raises(ParameterError, match="frontend='peer:murenn' needs the optional package"):
        make_task(tp.EXPERIMENT, {"frontend": "peer:murenn"})
    assert "peer:murenn" not in [p["frontend"] for p, _ in tp.plan("quick")]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"batch": 0}, "batch=0"),
        ({"sample_rate": 8000}, "sample_rate=8000 must be 16000"),
        ({"seconds": 0.01}, "seconds=0.01 must give >= 512"),
        ({"threads": 0}, "threads=0"),
    ],
)
def test_bad_parameters_raise(params, match):
    with pytest.raises(ParameterError, match=match):
        make_task(tp.EXPERIMENT, {"frontend": "mel", **params})


def test_plan_modes():
    full = tp.plan("full")
    names = [p["frontend"] for p, _ in full]
    assert set(registry.names()) <= set(names) and "naive-leaf" in names
    assert all(
        (p["batch"], p["seconds"], p["threads"], p["repeats"], p["warmup"]) == (8, 1.0, 2, 7, 2)
        for p, _ in full
    )
    quick = tp.plan("quick")
    assert [p["frontend"] for p, _ in quick] == names
    assert all(p["seconds"] == 0.25 for p, _ in quick)
    for params, seeds in tp.plan("tiny"):
        make_task(tp.EXPERIMENT, params, seeds[0])
    with pytest.raises(ParameterError, match="mode='huge'"):
        tp.plan("huge")


def test_section_tables_figure_and_findings(tiny_records):
    records = [dict(r) for r in tiny_records]
    sincnet = dict(records[0], frontend="sincnet", label="sincnet", ratio_to_mel=10.0)
    sincnet["cpu_ratio_to_mel"] = 10.0
    peer = dict(records[0], frontend="peer:asteroid-paramsinc", kind="peer", ratio_to_mel=20.0)
    peer |= {"label": "asteroid ParamSincFB(80, 251, 1)", "cpu_ratio_to_mel": 30.0}
    records += [sincnet, peer]
    sec = tp.section(records)
    assert isinstance(sec, Section) and sec.key == "throughput"
    assert len(sec.tables[0].rows) == 6
    assert sec.tables[1].rows[0][:2] == ["torch.stft + mel matmul", "7.6"]
    assert [name for name, _ in sec.figures] == ["throughput_ratio"]
    assert sec.figures[0][1].axes[0].get_xscale() == "log"
    text = " ".join(sec.findings)
    leaf = next(r for r in records if r["frontend"] == "leaf")
    assert f"LEAF preset: {leaf['ratio_to_mel']:.1f}x" in text
    assert "SincNet preset: 2.0x faster than asteroid ParamSincFB(80, 251, 1)" in text
    assert "(3.0x faster in CPU time); target >= 5x faster: missed" in text
    assert "reduced setting" in text
    assert tp.section([]).findings == ["No throughput records."]


def test_speed_wording():
    assert tp._times(2.0) == "2.0x faster" and tp._times(0.5) == "2.0x slower"
