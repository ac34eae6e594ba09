"""Synthetic signals: shapes, determinism, closed-form spectra and every error path."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from fbinit.errors import ParameterError
from fbinit.signals import (
    SYNTHETIC,
    alternating,
    am_tone,
    chirp,
    constant,
    flute,
    harmonic,
    impulse,
    lazy_walk,
    make_paper_signals,
    normalize,
    pulse_train,
    random_walk,
    sine,
    snare,
    synthetic,
    white_noise,
)

SEEDED = ("white_noise", "random_walk", "lazy_walk", "flute", "snare")
N = 1024


def circular_autocorrelation(x: np.ndarray) -> np.ndarray:
    """R(tau) = sum_n x[n] x[(n + tau) mod N], by FFT."""
    return np.fft.ifft(np.abs(np.fft.fft(x)) ** 2).real


# --------------------------------------------------------------------------- all generators


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
@pytest.mark.parametrize("n_samples", [65, 1024])
def test_shape_dtype_unit_norm(name, n_samples):
    x = synthetic(name, n_samples, seed=3)
    assert x.shape == (n_samples,)
    assert x.dtype == np.float64
    assert np.isfinite(x).all()
    assert abs(np.linalg.norm(x) - 1.0) < 1e-12


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_unit_norm_is_the_normalised_raw_signal(name):
    raw = synthetic(name, 2000, seed=5, unit_norm=False)
    assert raw.dtype == np.float64
    np.testing.assert_allclose(normalize(raw), synthetic(name, 2000, seed=5), atol=1e-14)


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_same_call_same_numbers(name):
    np.testing.assert_array_equal(synthetic(name, 500, seed=11), synthetic(name, 500, seed=11))


@pytest.mark.parametrize("name", SEEDED)
def test_seed_changes_random_signals(name):
    a, b = synthetic(name, 500, seed=1), synthetic(name, 500, seed=2)
    assert np.max(np.abs(a - b)) > 1e-3
    np.testing.assert_array_equal(synthetic(name, 500, seed=None), synthetic(name, 500, seed=0))


def test_registry_dispatch_matches_direct_calls():
    np.testing.assert_array_equal(synthetic("chirp", 300, f1=2000.0), chirp(300, f1=2000.0))
    np.testing.assert_array_equal(synthetic("snare", 300, seed=4), snare(300, seed=4))
    np.testing.assert_array_equal(
        synthetic("impulse", 30, seed=4, position=3), impulse(30, position=3)
    )


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("position", [0, 5, N - 1])
def test_impulse_autocorrelation_is_a_delta(position):
    x = impulse(N, position=position)
    assert x[position] == 1.0 and np.count_nonzero(x) == 1
    delta = np.zeros(N)
    delta[0] = 1.0
    np.testing.assert_allclose(circular_autocorrelation(x), delta, atol=1e-12)


def test_constant_autocorrelation_is_flat():
    np.testing.assert_allclose(circular_autocorrelation(constant(N)), np.ones(N), atol=1e-12)


def test_alternating_energy_is_at_nyquist():
    x = alternating(N)
    np.testing.assert_array_equal(x * np.sqrt(N), (-1.0) ** np.arange(N))
    power = np.abs(np.fft.fft(x)) ** 2
    assert abs(power[N // 2] - N) < 1e-9  # Parseval: sum |X|^2 = N ||x||^2 = N
    assert np.max(np.delete(power, N // 2)) < 1e-20
    np.testing.assert_allclose(circular_autocorrelation(x), (-1.0) ** np.arange(N), atol=1e-12)


@pytest.mark.parametrize("periods", [1, 8, 13, 511])
@pytest.mark.parametrize("phase", [0.0, 0.7])
def test_sine_with_integer_periods_has_cosine_autocorrelation(periods, phase):
    # R(tau) = (N A^2 / 2) cos(w0 tau) for 0 < P < N/2; unit norm makes N A^2 / 2 = 1.
    x = sine(N, periods=periods, phase=phase)
    tau = np.arange(N)
    np.testing.assert_allclose(
        circular_autocorrelation(x), np.cos(2 * np.pi * periods * tau / N), atol=1e-11
    )


def test_sine_integer_periods_is_circularly_periodic_and_fractional_leaks():
    x = sine(N, periods=8)
    np.testing.assert_allclose(np.roll(x, N // 8), x, atol=1e-12)
    power = np.abs(np.fft.rfft(sine(N, periods=8))) ** 2
    assert power[8] / power.sum() > 1 - 1e-12
    leaky = np.abs(np.fft.rfft(sine(N, periods=8.5))) ** 2
    assert leaky.max() / leaky.sum() < 0.5


def test_sine_frequency_equals_periods_and_default():
    a = sine(2205, frequency=440.0, sample_rate=22050.0)
    b = sine(2205, periods=440.0 * 2205 / 22050.0)
    np.testing.assert_allclose(a, b, atol=1e-12)
    np.testing.assert_array_equal(sine(N), sine(N, periods=8))
    np.testing.assert_allclose(sine(8, periods=2, unit_norm=False)[:2], [0.0, 1.0], atol=1e-15)


def test_harmonic_lines_have_amplitudes_one_over_h():
    sr, f0, n_harmonics = 8000, 100, 7
    x = harmonic(sr, f0=f0, sample_rate=sr, n_harmonics=n_harmonics)  # 1 s: 1 Hz bins
    spectrum = np.abs(np.fft.rfft(x))
    lines = spectrum[f0 * np.arange(1, n_harmonics + 1)]
    np.testing.assert_allclose(lines / lines[0], 1.0 / np.arange(1, n_harmonics + 1), rtol=1e-9)
    assert np.sum(lines**2) / np.sum(spectrum**2) > 1 - 1e-12


@pytest.mark.parametrize(("period", "offset"), [(1, 0), (16, 0), (64, 5), (512, 511)])
def test_pulse_train_is_periodic_with_spectral_comb(period, offset):
    x = pulse_train(N, period=period, offset=offset, unit_norm=False)
    assert np.count_nonzero(x) == N // period
    np.testing.assert_array_equal(np.flatnonzero(x), np.arange(offset, N, period))
    np.testing.assert_array_equal(np.roll(x, period), x)
    spectrum = np.abs(np.fft.fft(x))
    comb = np.arange(0, N, N // period)
    np.testing.assert_allclose(spectrum[comb], N // period, atol=1e-9)
    assert np.max(np.delete(spectrum, comb), initial=0.0) < 1e-9


def test_pulse_train_with_a_single_pulse_warns():
    with pytest.warns(UserWarning, match=r"period=64 with offset=3 leaves a single pulse"):
        x = pulse_train(40, period=64, offset=3)
    np.testing.assert_array_equal(x, impulse(40, position=3))


@pytest.mark.parametrize("depth", [0.0, 0.3, 1.0])
def test_am_tone_sidebands(depth):
    sr, fc, fm = 8000, 1000, 40
    spectrum = np.abs(
        np.fft.rfft(am_tone(sr, carrier=fc, modulator=fm, depth=depth, sample_rate=sr))
    )
    np.testing.assert_allclose(spectrum[[fc - fm, fc + fm]] / spectrum[fc], depth / 2, atol=1e-9)
    lines = spectrum[[fc - fm, fc, fc + fm]]
    assert np.sum(lines**2) / np.sum(spectrum**2) > 1 - 1e-12


def test_flute_without_vibrato_or_breath_is_a_harmonic_series():
    sr = 8000
    x = flute(sr, f0=200.0, sample_rate=sr, n_harmonics=5, vibrato_depth=0.0, breath_noise=0.0)
    spectrum = np.abs(np.fft.rfft(x))
    lines = spectrum[200 * np.arange(1, 6)]
    np.testing.assert_allclose(lines / lines[0], 0.5 ** np.arange(5), rtol=1e-9)
    assert np.sum(lines**2) / np.sum(spectrum**2) > 1 - 1e-12


def test_flute_vibrato_instantaneous_frequency():
    sr, f0, rate, depth = 16000, 440.0, 5.0, 0.02
    x = flute(
        sr,
        f0=f0,
        sample_rate=sr,
        n_harmonics=1,
        vibrato_rate=rate,
        vibrato_depth=depth,
        breath_noise=0.0,
        unit_norm=False,
    )
    phase = np.unwrap(np.angle(scipy.signal.hilbert(x)))
    inst = np.diff(phase) * sr / (2 * np.pi)  # frequency between samples n and n + 1
    t = (np.arange(sr - 1) + 0.5) / sr
    expected = f0 * (1 + depth * np.sin(2 * np.pi * rate * t))
    middle = slice(sr // 10, -sr // 10)  # away from the Hilbert transform's edge effects
    assert np.max(np.abs(inst[middle] - expected[middle])) < 1e-3  # Hz; the swing is +-8.8 Hz


def test_flute_breath_noise_level():
    kw = {"f0": 330.0, "seed": 7, "unit_norm": False}
    tone = flute(22050, breath_noise=0.0, **kw)
    noise = flute(22050, breath_noise=0.1, **kw) - tone
    ratio = np.sqrt(np.mean(noise**2) / np.mean(tone**2))
    assert abs(ratio - 0.1) < 0.003  # sample RMS of 22050 normals: relative s.e. 0.5 %


def test_snare_is_noise_times_exponential_plus_body():
    sr, decay, fb, level = 20000, 0.05, 200.0, 0.7
    kw = {"sample_rate": sr, "decay": decay, "seed": 9, "unit_norm": False}
    full = snare(sr, body_frequency=fb, body_level=level, **kw)
    noise = snare(sr, body_frequency=fb, body_level=0.0, **kw)
    t = np.arange(sr) / sr
    body = level * np.sin(2 * np.pi * fb * t) * np.exp(-2 * t / decay)
    np.testing.assert_allclose(full - noise, body, atol=1e-12)
    # the noise envelope: log mean power per 10 ms block decays with slope -2 / decay
    blocks = noise[: sr // 4].reshape(-1, sr // 100)
    centres = (np.arange(blocks.shape[0]) + 0.5) / 100
    slope = np.polyfit(centres, np.log(np.mean(blocks**2, axis=1)), 1)[0]
    assert abs(slope / (-2 / decay) - 1) < 0.1


@pytest.mark.parametrize(
    ("f0", "f1", "method"),
    [(100.0, 8000.0, "linear"), (6000.0, 500.0, "linear"), (200.0, 8000.0, "log")],
)
def test_chirp_peak_frequency_follows_the_sweep(f0, f1, method):
    sr, n = 22050, 22050
    x = chirp(n, f0=f0, f1=f1, sample_rate=sr, method=method)
    freqs, times, z = scipy.signal.stft(x, fs=sr, nperseg=1024, noverlap=768, boundary=None)
    peak = freqs[np.argmax(np.abs(z), axis=0)]
    t1 = (n - 1) / sr
    if method == "linear":
        expected = f0 + (f1 - f0) * times / t1
    else:
        expected = f0 * (f1 / f0) ** (times / t1)
    bin_width = sr / 1024
    assert np.max(np.abs(peak - expected)) < bin_width


def test_random_walk_without_clipping_is_a_cumulative_sum():
    steps = np.random.default_rng(12).standard_normal(3000)
    x = random_walk(3000, clip=1e9, seed=12, unit_norm=False)
    np.testing.assert_allclose(x, np.cumsum(steps), rtol=1e-12, atol=1e-9)


def test_random_walk_is_clipped_at_every_step():
    c = 2.5
    steps = np.random.default_rng(4).standard_normal(5000)
    x = random_walk(5000, clip=c, seed=4, unit_norm=False)
    assert np.max(np.abs(x)) == c  # reaches and never exceeds the bound
    np.testing.assert_allclose(x[0], np.clip(steps[0], -c, c))
    np.testing.assert_allclose(x[1:], np.clip(x[:-1] + steps[1:], -c, c), atol=1e-12)


def test_white_noise_moments():
    x = white_noise(100_000, seed=2, unit_norm=False)
    assert abs(np.mean(x)) < 4 / np.sqrt(x.size)
    assert abs(np.var(x) - 1) < 4 * np.sqrt(2 / x.size)
    lag1 = np.dot(x[:-1], x[1:]) / np.dot(x, x)
    assert abs(lag1) < 4 / np.sqrt(x.size)


def test_paper_signals_are_named_for_what_they_are():
    signals = make_paper_signals(N, seed=0)
    assert list(signals) == ["impulse", "lazy_walk", "sine", "constant", "alternating"]
    for x in signals.values():
        assert x.shape == (N,) and abs(np.linalg.norm(x) - 1) < 1e-12
    # the sinusoid is genuine: one spectral line at 8 periods, not a constant or (-1)^n
    power = np.abs(np.fft.rfft(signals["sine"])) ** 2
    assert np.argmax(power) == 8 and power[8] / power.sum() > 1 - 1e-12
    np.testing.assert_array_equal(signals["lazy_walk"], lazy_walk(N, p=0.15, seed=0))
    # constant and (-1)^n: |R(tau)| = R(0) for every lag (rank-one Toeplitz matrix)
    for name in ("constant", "alternating"):
        np.testing.assert_allclose(np.abs(circular_autocorrelation(signals[name])), 1, atol=1e-12)


# --------------------------------------------------------------------------- normalize


def test_normalize_batched_and_tiny_amplitudes():
    x = np.arange(1.0, 16.0).reshape(3, 5)
    y = normalize(x)
    assert y.shape == (3, 5)
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(y[1], x[1] / np.linalg.norm(x[1]), rtol=1e-14)
    np.testing.assert_allclose(normalize([3e-200, 4e-200]), [0.6, 0.8], rtol=1e-14)
    np.testing.assert_allclose(normalize(np.array([3, 4])), [0.6, 0.8], rtol=1e-14)


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        (np.zeros(8), ParameterError, r"x has zero energy; .*unit_norm=True"),
        (
            np.array([[1.0, 2.0], [0.0, 0.0]]),
            ParameterError,
            r"zero energy \(signals at \[\[1\]\]\)",
        ),
        (np.array([1.0, np.nan]), ParameterError, "x must hold only finite values"),
        (np.array([1.0, np.inf]), ParameterError, "x must hold only finite values"),
        (np.zeros(0), ParameterError, r"x.shape=\(0,\) must have at least one sample"),
        (3.0, ParameterError, r"x.shape=\(\) must have at least one sample"),
        (np.array([1 + 1j]), TypeError, "x must hold real numbers"),
        (np.array(["a"]), TypeError, "x must hold real numbers"),
    ],
)
def test_normalize_errors(x, error, match):
    with pytest.raises(error, match=match):
        normalize(x)


# --------------------------------------------------------------------------- error paths

# fmt: off
ERRORS = [
    (impulse, 0, {}, ParameterError, r"n_samples=0 must be an integer >= 1"),
    (impulse, 8.0, {}, TypeError, r"n_samples=8.0 must be an integer"),
    (impulse, 8, {"position": 8}, ParameterError, r"position=8 must be < n_samples=8"),
    (impulse, 8, {"position": -1}, ParameterError, r"position=-1 must be an integer >= 0"),
    (impulse, 8, {"unit_norm": 1}, TypeError, r"unit_norm=1 must be a bool"),
    (white_noise, 8, {"seed": -1}, ParameterError, r"seed=-1 must be an integer >= 0"),
    (white_noise, 8, {"seed": 1.5}, TypeError, r"seed=1.5 must be an integer"),
    (random_walk, 8, {"clip": 0.0}, ParameterError, r"clip=0.0 must be a finite number > 0"),
    (random_walk, 8, {"clip": np.inf}, ParameterError, r"clip=inf must be a finite number > 0"),
    (constant, -3, {}, ParameterError, r"n_samples=-3 must be an integer >= 1"),
    (alternating, True, {}, TypeError, r"n_samples=True must be an integer"),
    (sine, 64, {"periods": 32}, ParameterError, r"periods=32 must be < n_samples / 2 = 32"),
    (sine, 64, {"periods": 0}, ParameterError, r"periods=0.0 must be a finite number > 0"),
    (sine, 64, {"periods": 2, "frequency": 100.0}, ParameterError, r"must not both be given"),
    (sine, 64, {"frequency": 11025.0}, ParameterError,
     r"frequency=11025 must be < sample_rate / 2 = 11025 Hz"),
    (sine, 64, {"frequency": 100.0, "sample_rate": 0}, ParameterError,
     r"sample_rate=0.0 must be a finite number > 0"),
    (sine, 64, {"phase": np.nan}, ParameterError, r"phase=nan must be a finite number"),
    (sine, 64, {"phase": "0"}, TypeError, r"phase='0' must be a real number"),
    (harmonic, 64, {"f0": 1000.0, "n_harmonics": 12}, ParameterError,
     r"n_harmonics \* f0 = 12000 Hz must be < sample_rate / 2 = 11025 Hz"),
    (harmonic, 64, {"n_harmonics": 0}, ParameterError, r"n_harmonics=0 must be an integer >= 1"),
    (harmonic, 64, {"f0": -1.0}, ParameterError, r"f0=-1.0 must be a finite number > 0"),
    (pulse_train, 64, {"period": 128, "offset": 64}, ParameterError,
     r"offset=64 must be < n_samples=64"),
    (pulse_train, 64, {"period": 0}, ParameterError, r"period=0 must be an integer >= 1"),
    (pulse_train, 64, {"period": 8, "offset": 8}, ParameterError, r"offset=8 must be < period=8"),
    (am_tone, 64, {"depth": 1.5}, ParameterError, r"depth=1.5 must be in \[0, 1\]"),
    (am_tone, 64, {"depth": -0.1}, ParameterError, r"depth=-0.1 must be a finite number >= 0"),
    (am_tone, 64, {"carrier": 11000.0, "modulator": 30.0}, ParameterError,
     r"carrier \+ modulator = 11030 Hz must be < sample_rate / 2"),
    (am_tone, 64, {"modulator": 0.0}, ParameterError, r"modulator=0.0 must be a finite number > 0"),
    (flute, 64, {"vibrato_depth": 1.0}, ParameterError, r"vibrato_depth=1.0 must be in \[0, 1\)"),
    (flute, 64, {"vibrato_rate": 0.0}, ParameterError, r"vibrato_rate=0.0 must be a finite"),
    (flute, 64, {"breath_noise": -1.0}, ParameterError,
     r"breath_noise=-1.0 must be a finite number >= 0"),
    (flute, 64, {"f0": 2000.0}, ParameterError,
     r"n_harmonics \* f0 \* \(1 \+ vibrato_depth\) = 12120 Hz must be < sample_rate / 2"),
    (snare, 64, {"decay": 0.0}, ParameterError, r"decay=0.0 must be a finite number > 0"),
    (snare, 64, {"body_frequency": 20000.0}, ParameterError, r"body_frequency=20000 must be <"),
    (snare, 64, {"body_level": -0.5}, ParameterError,
     r"body_level=-0.5 must be a finite number >= 0"),
    (chirp, 1, {}, ParameterError, r"n_samples=1 must be an integer >= 2"),
    (chirp, 64, {"f1": 12000.0}, ParameterError, r"f1=12000 must be < sample_rate / 2"),
    (chirp, 64, {"f0": 0.0}, ParameterError, r"f0=0.0 must be a finite number > 0"),
    (chirp, 64, {"method": "quadratic"}, ParameterError,
     r"method='quadratic' must be one of 'linear', 'log'"),
]
# fmt: on


@pytest.mark.parametrize(("function", "n_samples", "kwargs", "error", "match"), ERRORS)
def test_generator_errors(function, n_samples, kwargs, error, match):
    with pytest.raises(error, match=match):
        function(n_samples, **kwargs)


def test_synthetic_unknown_name_lists_the_names():
    with pytest.raises(ParameterError, match=r"name='sinus' must be one of 'impulse', .*'chirp'"):
        synthetic("sinus", 8)


def test_errors_are_value_errors():
    with pytest.raises(ValueError, match="position"):
        impulse(4, position=4)


# --------------------------------------------------------------------------- lazy walk


def authors_rule(u: np.ndarray, p: float) -> np.ndarray:
    """The rule of the authors' notebook, written out step by step."""
    walk = [0]
    for value in u:
        down = value < p and walk[-1] > -1
        up = value > 1 - p and walk[-1] < 1
        walk.append(walk[-1] - down + up)
    return np.array(walk, dtype=np.float64)


@pytest.mark.parametrize("p", [0.15, 0.02, 0.5])
def test_lazy_walk_follows_the_authors_rule(p):
    x = lazy_walk(3000, p=p, seed=9, unit_norm=False)
    u = np.random.default_rng(9).random(2999)
    np.testing.assert_array_equal(x, authors_rule(u, p))
    assert set(np.unique(x)) <= {-1.0, 0.0, 1.0} and x[0] == 0
    assert set(np.unique(np.diff(x))) <= {-1.0, 0.0, 1.0}
    # at a boundary a step beyond it is not taken: the walk stays
    at_floor = (x[:-1] == -1) & (u < p)
    at_ceiling = (x[:-1] == 1) & (u > 1 - p)
    assert at_floor.any() and at_ceiling.any()
    assert np.all(x[1:][at_floor] == -1) and np.all(x[1:][at_ceiling] == 1)


def test_lazy_walk_stationary_law_and_autocorrelation():
    """Doubly stochastic chain: uniform on {-1, 0, 1}, E x[n] x[n+k] = (2/3)(1 - p)^k."""
    p, n = 0.15, 400_000
    x = lazy_walk(n, p=p, seed=3, unit_norm=False)
    tau = 1 / p  # correlation time in steps: about n / (2 tau) independent blocks
    blocks = n / (2 * tau)
    for level in (-1.0, 0.0, 1.0):
        assert abs(np.mean(x == level) - 1 / 3) < 5 * np.sqrt(2 / 9 / blocks)
    for k in (0, 1, 3, 10):
        r = np.mean(x[: n - k] * x[k:])
        assert abs(r - 2 / 3 * (1 - p) ** k) < 5 * np.sqrt(2 / blocks)


def test_lazy_walk_is_the_papers_brownian_noise():
    paper = make_paper_signals(N, seed=4)
    np.testing.assert_array_equal(paper["lazy_walk"], lazy_walk(N, p=0.15, seed=4))
    assert synthetic("lazy_walk", 64, seed=1, p=0.3).shape == (64,)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"p": 0.6}, ParameterError, r"p=0.6 must be <= 1/2"),
        ({"p": 0.0}, ParameterError, r"p=0.0 must be in the open interval \(0, 1\)"),
        ({"p": "0.1"}, TypeError, r"p='0.1' must be a real number"),
        ({"seed": -1}, ParameterError, r"seed=-1 must be an integer >= 0"),
    ],
)
def test_lazy_walk_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        lazy_walk(16, **kwargs)
    with pytest.raises(ParameterError, match="zero energy"):
        lazy_walk(1)  # the walk of one sample is [0]: nothing to normalise


def test_signals_too_long_for_memory_are_refused():
    with pytest.raises(ParameterError, match=r"n_samples=1000000000000 must be smaller"):
        impulse(10**12)
    with pytest.raises(ParameterError, match=r"n_samples=10000000, n_harmonics=1000 must be"):
        harmonic(10**7, f0=10.0, n_harmonics=1000)
