"""ConditionMonitor and its measures against closed forms and independent computations."""

from __future__ import annotations

import csv
import math
import warnings

import matplotlib
import numpy as np
import pytest
import scipy.spatial.distance
import torch

from fbinit import Filterbank, ParameterError, frame_bounds
from fbinit.frontends import ConditionMonitor, MelFrontend, MultiresFrontend
from fbinit.frontends.monitor import (
    centre_and_bandwidth,
    default_n_fft,
    frame_summary,
    js_distance,
    response_power,
)

SR = 16000.0


def gabor_bank(centres_hz, sigma_t, kernel_size=1025, complex_=True):
    """Gaussian-windowed (co)sines: the power response is a Gaussian in frequency."""
    t = torch.arange(kernel_size, dtype=torch.float64) - kernel_size // 2
    env = torch.exp(-0.5 * (t / sigma_t) ** 2)
    phase = 2 * math.pi * torch.tensor(centres_hz, dtype=torch.float64)[:, None] * t / SR
    w = env * (torch.exp(1j * phase) if complex_ else torch.cos(phase))
    return Filterbank(w, sample_rate=SR, band=(100.0, 7000.0))


@pytest.mark.parametrize("complex_", [True, False])
def test_centre_and_bandwidth_of_gabor_filters_match_the_closed_form(complex_):
    centres, sigma_t = [500.0, 1234.5, 4000.0], 40.0
    power = response_power(gabor_bank(centres, sigma_t, complex_=complex_), n_fft=8192)
    centre, width = centre_and_bandwidth(power, sample_rate=SR)
    # |H(f)|^2 ~ exp(-(2 pi (f - f0) sigma_t / SR)^2): half power at sqrt(ln 2)
    expected = 2 * math.sqrt(math.log(2)) / (2 * math.pi * sigma_t) * SR
    np.testing.assert_allclose(centre.numpy(), centres, rtol=0, atol=0.5)
    np.testing.assert_allclose(width.numpy(), expected, rtol=2e-3)


def test_bandwidth_edges_at_dc_and_zero_filters():
    # a lowpass stays above half power down to DC: its edge is taken at 0 Hz
    lowpass = torch.ones(1, 8, dtype=torch.float64) / 8
    power = response_power(lowpass, n_fft=1024)
    centre, width = centre_and_bandwidth(power, sample_rate=SR)
    assert float(centre) == 0.0
    f = torch.linspace(0, SR / 2, 513, dtype=torch.float64)
    half = f[power[0] >= power[0, 0] / 2].max()  # the -3 dB point of the boxcar
    assert float(width) == pytest.approx(float(half), abs=SR / 1024)
    centre, width = centre_and_bandwidth(torch.zeros(2, 9), sample_rate=SR)
    assert bool(centre.isnan().all() and width.isnan().all())


def test_response_power_is_the_symmetrised_power_spectrum():
    rng = np.random.default_rng(1)
    w = torch.tensor(rng.standard_normal((3, 20)) + 1j * rng.standard_normal((3, 20)))
    full = torch.fft.fft(w, n=64).abs().square()
    mirrored = full[:, (-torch.arange(64)) % 64]
    expected = 0.5 * (full + mirrored)[:, :33]
    torch.testing.assert_close(response_power(w, n_fft=64), expected, rtol=1e-12, atol=1e-12)
    real = torch.fft.rfft(w.real, n=64).abs().square()
    torch.testing.assert_close(response_power(w.real, n_fft=64), real, rtol=1e-12, atol=1e-12)


def test_js_distance_equals_scipy():
    rng = np.random.default_rng(0)
    p, q = rng.random((5, 40)), rng.random((5, 40))
    p[0, :20] = 0  # zero bins count as 0 log 0 = 0
    expected = [
        scipy.spatial.distance.jensenshannon(a, b, base=2) for a, b in zip(p, q, strict=True)
    ]
    np.testing.assert_allclose(js_distance(torch.tensor(p), torch.tensor(q)), expected, rtol=1e-12)
    # a gain does not change the shape (the square root amplifies rounding to ~1e-8)
    assert float(js_distance(torch.tensor(p[:1]), 3 * torch.tensor(p[:1]))) < 1e-7


def test_frame_summary_matches_frame_bounds():
    bank = gabor_bank(list(np.arange(0.0, 8001.0, 500.0)), 3.0, kernel_size=33)
    out = frame_summary(bank, n_fft=1024, band=(200.0, 7000.0))
    A, B = frame_bounds(bank, n_fft=1024)
    Ab, Bb = frame_bounds(bank, n_fft=1024, band=(200.0, 7000.0))
    assert float(out["A"]) == float(A) and float(out["B"]) == float(B)
    assert float(out["kappa"]) == float(B / A) and 1 < float(B / A) < 100
    assert float(out["kappa_band"]) == float(Bb / Ab) and float(Bb / Ab) < float(B / A)
    strided = frame_summary(bank.with_stride(4), n_fft=1024, band=(200.0, 7000.0))
    assert math.isnan(float(strided["kappa_band"])) and not math.isnan(float(strided["kappa"]))
    assert default_n_fft(bank.with_stride(160)) == 1120


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_monitor_records_drift_bounds_and_responses(dtype):
    conv = torch.nn.Conv1d(1, 6, 128, bias=False).to(dtype)
    monitor = ConditionMonitor(conv, every=5, n_fft=512)
    assert monitor.step(3) is None
    with torch.no_grad():
        conv.weight.mul_(2.0)  # a pure gain: L2 change 1, shape unchanged
    record = monitor(5)
    assert record is not None
    with torch.no_grad():
        conv.weight[2] = torch.randn(1, 128, generator=torch.Generator().manual_seed(0)).to(dtype)
    monitor.step(10)
    h = monitor.history()
    assert h["step"].tolist() == [0, 5, 10]
    assert h["centre_hz"].shape == (3, 6) and h["js_distance"].shape == (3, 6)
    np.testing.assert_allclose(h["l2_change"][0], 0.0)
    np.testing.assert_allclose(h["l2_change"][1], 1.0, rtol=1e-12)
    np.testing.assert_allclose(h["l2_change_bank"][1], 1.0, rtol=1e-12)
    np.testing.assert_allclose(h["js_distance"][:2], 0.0, atol=1e-7)
    moved = h["js_distance"][2]
    assert moved[2] > 0.05 and np.delete(moved, 2).max() < 1e-7
    A, B = frame_bounds(conv, n_fft=512)
    assert h["A"][2] == pytest.approx(float(A)) and h["kappa"][2] == pytest.approx(float(B / A))
    assert np.isnan(h["kappa_band"]).all()  # a Conv1d has no band
    np.testing.assert_allclose(h["A"][1], 4 * h["A"][0], rtol=1e-12)  # gain 2 -> bounds x4


def test_monitor_uses_the_frontend_band_and_sample_rate():
    mel = MelFrontend(16, 256, stride=1, sample_rate=SR, fmin=300.0, fmax=6000.0)
    monitor = ConditionMonitor(mel, every=1)
    h = monitor.history()
    A, B = frame_bounds(mel, n_fft=monitor.n_fft, band=(300.0, 6000.0))
    assert h["kappa_band"][0] == pytest.approx(float(B / A))
    # the STFT atoms of bin k peak at k SR / n_fft (their DFT is at -k: real input sees both)
    expected = np.arange(129) * SR / 256
    np.testing.assert_allclose(h["centre_hz"][0], expected, atol=1.0)


def test_monitor_keeps_no_graph_and_leaves_gradients_alone():
    frontend = MultiresFrontend(2, 2, 5, sample_rate=SR)
    monitor = ConditionMonitor(frontend, every=1)
    record = monitor.step(1)
    assert 1 <= float(record["kappa"]) < float("inf")  # multirate frame bounds
    for key, value in record.items():
        if isinstance(value, torch.Tensor):
            assert not value.requires_grad and value.grad_fn is None, key
            assert value.device == frontend.weights[0].device
    assert all(p.grad is None for p in frontend.parameters())
    h = monitor.history()
    assert h["centre_hz"].shape == (2, frontend.n_filters)
    assert np.isfinite(h["centre_hz"]).all() and np.isfinite(h["bandwidth_hz"]).all()


def test_monitor_during_training_of_a_multires_frontend(tmp_path):
    torch.manual_seed(0)
    frontend = MultiresFrontend(3, 2, 9, sample_rate=SR, compression="log")
    head = torch.nn.Linear(frontend.n_filters, 1)
    opt = torch.optim.Adam([*frontend.parameters(), *head.parameters()], lr=1e-2)
    x = torch.randn(4, 800)
    y = torch.randn(4, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        monitor = ConditionMonitor(frontend, every=10)
        for step in range(1, 31):
            opt.zero_grad()
            loss = (head(frontend(x).mean(-1)) - y).square().mean()
            loss.backward()
            opt.step()
            monitor(step)
    h = monitor.history()
    assert h["step"].tolist() == [0, 10, 20, 30]
    assert np.all(np.diff(h["l2_change_bank"]) > 0)  # the kernels move away, step by step
    assert h["js_mean"][0] == 0.0 and h["js_mean"][-1] > 0
    path = monitor.to_csv(tmp_path / "monitor.csv")
    rows = list(csv.DictReader(path.open()))
    assert len(rows) == 4 * frontend.n_filters
    assert rows[0].keys() >= {"step", "filter", "centre_hz", "js_distance", "kappa", "js_mean"}
    last = [r for r in rows if r["step"] == "30"]
    assert float(last[3]["l2_change"]) == pytest.approx(h["l2_change"][-1, 3])


def test_plot_returns_a_figure_without_touching_the_backend():
    conv = torch.nn.Conv1d(1, 4, 32, bias=False)
    monitor = ConditionMonitor(conv, every=1)
    with torch.no_grad():
        conv.weight.add_(0.1)
    monitor.step(1)
    backend = matplotlib.get_backend()
    fig = monitor.plot()
    assert type(fig).__name__ == "Figure" and len(fig.axes) == 4
    assert matplotlib.get_backend() == backend


def test_bad_arguments_name_the_rule():
    conv = torch.nn.Conv1d(1, 4, 32, bias=False)
    with pytest.raises(ParameterError, match=r"every=0 must be an integer >= 1"):
        ConditionMonitor(conv, every=0)
    with pytest.raises(ParameterError, match=r"n_fft=16 must be >= kernel_size=32"):
        ConditionMonitor(conv, n_fft=16)
    strided = torch.nn.Conv1d(1, 4, 32, stride=3, bias=False)
    with pytest.raises(ParameterError, match=r"stride=3 must divide n_fft=64"):
        ConditionMonitor(strided, n_fft=64)
    monitor = ConditionMonitor(conv)
    with pytest.raises(ParameterError, match=r"step=-1 must be an integer >= 0"):
        monitor.step(-1)
    with pytest.raises(TypeError, match=r"bank must be a Filterbank"):
        ConditionMonitor(object())


def test_sample_rate_and_band_for_a_bare_conv1d():
    conv = torch.nn.Conv1d(1, 24, 64, bias=False)
    monitor = ConditionMonitor(conv, sample_rate=SR, band=(100.0, 7000.0))
    h = monitor.history()
    bank = Filterbank(conv.weight.detach()[:, 0].double(), sample_rate=SR)
    A, B = frame_bounds(bank, n_fft=monitor.n_fft, band=(100.0, 7000.0))
    assert h["kappa_band"][0] == pytest.approx(float(B / A), rel=1e-12)
    power = response_power(bank, n_fft=monitor.n_fft)
    centre, _ = centre_and_bandwidth(power, sample_rate=SR)
    np.testing.assert_allclose(h["centre_hz"][0], centre.numpy())
    assert h["centre_hz"].max() > 1000  # in Hz, not in cycles per sample
    with pytest.raises(ParameterError, match=r"fmax=9000.0 must be <= sample_rate / 2"):
        ConditionMonitor(conv, sample_rate=SR, band=(100.0, 9000.0))
    with pytest.raises(ParameterError, match=r"sample_rate=0.0 must be a finite number > 0"):
        ConditionMonitor(conv, sample_rate=0.0)
