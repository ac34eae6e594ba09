"""The classification benchmark: data, every frontend end to end, the mel baseline, report."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest
import torch

from fbinit.bench import classify
from fbinit.bench import classify_data as data
from fbinit.errors import ParameterError
from fbinit.frontends import ConvFrontend

REQUIRED = {
    "task", "frontend", "accuracy", "val_accuracy", "chance", "n_params", "backend_params",
    "kappa_init", "kappa_final", "kappa_band_init", "kappa_band_final", "band_energy_init",
    "band_energy_final", "n_in_band_init", "n_in_band_final", "centre_hz_init",
    "centre_hz_final", "wall_s",
}  # fmt: skip


@functools.lru_cache(maxsize=1)
def tiny_records() -> tuple[dict, ...]:
    return tuple(
        classify.run_classify(**params, seed=seed)
        for params, seeds in classify.plan("tiny")
        for seed in seeds
    )


def test_tiny_plan_runs_every_task_and_frontend_with_jsonable_records():
    records = tiny_records()
    assert {(r["task"], r["frontend"]) for r in records} == {
        (t, f) for t in data.TASKS for f in classify.FRONTENDS
    }
    for r in records:
        assert REQUIRED <= set(r)
        json.dumps(r, allow_nan=False)  # no NaN/inf, only JSON types
        assert 0.0 <= r["accuracy"] <= 1.0 and 0.0 <= r["val_accuracy"] <= 1.0
        assert r["chance"] == pytest.approx(1 / (6 if r["task"] == "tones" else 10))
        assert (r["n_params"] > 0) == (r["frontend"] in classify.LEARNABLE)
        assert 15_000 < r["backend_params"] < 20_000
        if r["frontend"] in classify.FIXED:  # fixed banks do not change
            assert r["centre_hz_final"] == r["centre_hz_init"]
            assert r["kappa_band_final"] == r["kappa_band_init"]
        if r["task"] == "tones":
            assert 0.0 < r["band_energy_init"] < 1.0
            assert 0 <= r["n_in_band_final"] <= len(r["centre_hz_final"])
        else:
            assert r["band_energy_init"] is None
    tight = next(r for r in records if r["frontend"] == "conv-tight")
    assert tight["kappa_init"] == pytest.approx(1.0, abs=0.02)  # tight at stride 8


def test_backend_parameter_count_matches_the_docstring():
    n = sum(p.numel() for p in classify.Backend(40, 10).parameters())
    assert n == 2 * 40 + 240 * 40 + 48 + 6960 + 97 * 10 == 17_658


def test_mel_beats_chance_by_a_wide_margin_on_digits():
    # 300 training examples, 8 epochs: mel reached 0.75-0.83 on unseen speakers (seeds
    # 0-2); we ask for 0.5, five times chance (0.1)
    r = classify.run_classify(
        task="digits", frontend="mel", epochs=8, n_train=300, n_val=50, n_test=100, seed=0
    )
    assert r["accuracy"] >= 5 * r["chance"]


def test_tones_have_their_class_frequency_as_in_band_spectral_peak():
    x, y, freq = data.tones_data(60, np.random.default_rng(3))
    assert x.shape == (60, 4000) and x.dtype == np.float32
    assert np.bincount(y).tolist() == [10] * 6
    spec = np.abs(np.fft.rfft(x.astype(np.float64), axis=-1)) ** 2
    hz = np.fft.rfftfreq(x.shape[-1], 1 / data.SAMPLE_RATE)  # 2 Hz bins
    band = (hz >= 3000) & (hz <= 3990)
    peak = hz[band][spec[:, band].argmax(-1)]
    np.testing.assert_allclose(peak, np.asarray(data.TONE_HZ)[y], atol=data.TONE_JITTER_HZ + 2)
    np.testing.assert_allclose(peak, freq, atol=2.0)
    # the loudest component of every clip is a low distractor (pink noise or a tone)
    assert (hz[spec.argmax(-1)] < 1000).all()


def test_pink_noise_has_a_one_over_f_spectrum():
    x = data.pink_noise(np.random.default_rng(0), 200, 4000)
    np.testing.assert_allclose(x.std(-1), 1.0, rtol=1e-12)
    power = (np.abs(np.fft.rfft(x, axis=-1)) ** 2).mean(0)
    hz = np.fft.rfftfreq(4000, 1 / data.SAMPLE_RATE)
    octave = [power[(hz >= f) & (hz < 2 * f)].sum() for f in (250, 500, 1000, 2000)]
    np.testing.assert_allclose(octave / np.mean(octave), 1.0, atol=0.05)  # equal per octave


def test_digits_are_distinct_per_class_and_splits_share_no_speaker():
    clips = [data.digit_clip(w, "en-us", 50, 160) for w in data.DIGITS]
    for i in range(10):
        for j in range(i):
            a, b = clips[i], clips[j]
            assert len(a) != len(b) or not np.allclose(a, b, atol=1e-3), (i, j)
    voices = [data.digit_clip("seven", v, 50, 160) for v in data.DIGIT_VOICES]
    for i in range(len(voices)):
        for j in range(i):
            a, b = voices[i], voices[j]
            assert len(a) != len(b) or not np.allclose(a, b, atol=1e-3), (i, j)
    split = data.split_combos((40, 60), (150, 190), 3, 4, seed=7)
    sets = {k: set(v) for k, v in split.items()}
    n_combos = len(data.DIGIT_VOICES) * 2 * 2
    assert [len(sets[k]) for k in ("test", "val", "train")] == [4, 3, n_combos - 7]
    assert not (sets["test"] & sets["train"]) and not (sets["val"] & sets["train"])
    x, y, combo = data.digits_data(30, split["test"], np.random.default_rng(0))
    assert x.shape == (30, 6000) and np.bincount(y).tolist() == [3] * 10
    assert set(combo) <= set(range(4))


def test_bank_summary_of_a_dirac_is_flat():
    dirac = ConvFrontend(1, 1, sample_rate=8000.0)
    with torch.no_grad():
        dirac.weight.fill_(1.0)
    s = classify.bank_summary(dirac, (1000.0, 2000.0))
    n_fft = 1024  # default_n_fft: max(1024, 2 K); bins of 7.8125 Hz, 0..512
    hz = np.arange(n_fft // 2 + 1) * 8000 / n_fft
    assert s["kappa"] == pytest.approx(1.0) and s["kappa_band"] == pytest.approx(1.0)
    share = ((hz >= 1000) & (hz <= 2000)).sum() / hz.size
    assert s["band_energy"] == pytest.approx(share, rel=1e-9)


def test_bad_parameters_name_the_parameter():
    with pytest.raises(ParameterError, match="task="):
        classify.run_classify(task="birds", frontend="mel", seed=0)
    with pytest.raises(ParameterError, match="frontend="):
        classify.run_classify(task="tones", frontend="leaf", seed=0)
    with pytest.raises(ParameterError, match="val_combos"):
        classify.run_classify(task="digits", frontend="mel", val_combos=12, test_combos=12, seed=0)
    with pytest.raises(ParameterError, match="pitches"):
        classify.run_classify(task="digits", frontend="mel", pitches=[50, 120], seed=0)
    with pytest.raises(ParameterError, match="mode="):
        classify.plan("huge")


def test_section_has_tables_figures_and_findings():
    records = list(tiny_records())
    sec = classify.section(records)
    assert sec.key == "classify"
    assert len(sec.tables[0].rows) == len(records)
    assert len(sec.tables[2].rows) == len(classify.FRONTENDS)  # band energy, tones only
    assert [name for name, _ in sec.figures] == ["classify_accuracy", "classify_centres"]
    assert any("mel" in f for f in sec.findings)
    assert classify.section([]).tables[0].rows == []


def test_plan_modes():
    for mode, n_seeds in (("tiny", 1), ("quick", 1), ("full", 5)):
        tasks = classify.plan(mode)
        assert len(tasks) == 18 and all(len(seeds) == n_seeds for _, seeds in tasks)
    full = classify.plan("full")[0][0]
    assert full["n_train"] > classify.plan("quick")[0][0]["n_train"]


def test_records_are_reproducible_and_data_shared_across_frontends():
    kwargs = {"task": "tones", "epochs": 1, "n_train": 24, "n_val": 12, "n_test": 12, "seed": 5}
    a = classify.run_classify(frontend="sinc", **kwargs)
    b = classify.run_classify(frontend="sinc", **kwargs)
    for key in ("accuracy", "val_accuracy", "kappa_final", "centre_hz_final"):
        assert a[key] == b[key]
    x1 = data.make_splits("tones", 24, 12, 12, 5)["test"][0]
    x2 = data.make_splits("tones", 24, 12, 12, 6)["test"][0]
    assert not np.allclose(x1, x2)  # the seed draws the data


def test_registered_with_the_sweep_engine_and_plans_validate():
    from fbinit.sweep.registry import get_experiment

    experiment = get_experiment(classify.EXPERIMENT)
    assert experiment.function is classify.run_classify and not experiment.derive_seed
    for mode in ("tiny", "quick", "full"):
        for params, _ in classify.plan(mode):
            full = experiment.complete(params)
            assert isinstance(full["pitches"], list) and json.dumps(full)
