"""Properties shared by every filterbank family, and the validation of the fixed banks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from fbinit.banks.gabor import gabor
from fbinit.banks.gammatone import gammatone
from fbinit.banks.mel import mel
from fbinit.banks.random import gaussian
from fbinit.banks.sinc import sinc
from fbinit.banks.wavelet import wavelet
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

SR = 16000.0

# (constructor, n_filters, kernel_size, extra kwargs, expected dtype, expected band)
FAMILIES = {
    "gaussian": (gaussian, 16, 128, {"seed": 0}, torch.float64, None),
    "mel": (mel, 40, 512, {"fmin": 50.0, "fmax": 7000.0}, torch.float64, (50.0, 7000.0)),
    "gammatone": (gammatone, 24, 1024, {"fmin": 200.0}, torch.float64, None),
    "wavelet": (wavelet, 36, 1024, {"fmin": 400.0}, torch.complex128, None),
    "gabor": (gabor, 40, 401, {"fmin": 300.0}, torch.complex128, (300.0, 7800.0)),
    "sinc": (sinc, 40, 251, {}, torch.float64, (30.0, 8000.0)),
}


def build(family: str, **overrides) -> Filterbank:
    constructor, n_filters, kernel_size, kwargs, _, _ = FAMILIES[family]
    return constructor(n_filters, kernel_size, sample_rate=SR, **{**kwargs, **overrides})


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_shape_dtype_attributes(family):
    _, n_filters, kernel_size, _, dtype, band = FAMILIES[family]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # these settings fit their kernels: no warning
        bank = build(family, stride=4)
    assert isinstance(bank, Filterbank)
    assert tuple(bank.weights.shape) == (n_filters, kernel_size)
    assert bank.weights.dtype == dtype
    assert bool(torch.isfinite(bank.weights).all())
    assert bank.sample_rate == SR
    assert bank.stride == 4
    assert bank.name
    if family == "gaussian":
        assert bank.band is None
    else:
        fmin, fmax = bank.band
        assert 0 <= fmin < fmax <= SR / 2
        if band is not None:
            assert bank.band == band
        # every filter is nonzero
        assert bool((bank.weights.abs().amax(dim=-1) > 0).all())


@pytest.mark.parametrize("family", sorted(set(FAMILIES) - {"gaussian"}))
def test_peaks_ascend_and_lie_in_band(family):
    bank = build(family)
    n_fft = 8192
    spectrum = torch.fft.fft(bank.weights, n=n_fft).abs()[:, : n_fft // 2 + 1]
    peaks_hz = spectrum.argmax(dim=-1).numpy() * SR / n_fft
    assert np.all(np.diff(peaks_hz) >= 0), peaks_hz
    # a filter of T taps cannot be localised in frequency better than about SR / T: narrow
    # low sinc bands (30-80 Hz at 251 taps) peak a little below their band
    fmin, fmax = bank.band
    tol = 2 * SR / bank.kernel_size
    assert np.all(peaks_hz >= fmin - tol) and np.all(peaks_hz <= fmax + tol), peaks_hz


# -- validation -------------------------------------------------------------------------

BAND_FAMILIES = ["mel", "gammatone", "gabor", "sinc"]
ALL_FIXED = ["mel", "gammatone", "wavelet", "gabor", "sinc"]


@pytest.mark.parametrize("family", ALL_FIXED)
@pytest.mark.parametrize(
    ("overrides", "error", "match"),
    [
        ({"n_filters": 0}, ParameterError, r"n_filters=0 must be an integer >= 1"),
        ({"n_filters": 2.5}, TypeError, r"n_filters=2.5 must be an integer"),
        ({"kernel_size": 0}, ParameterError, r"kernel_size=0 must be an integer >= 1"),
        ({"sample_rate": 0.0}, ParameterError, r"sample_rate=0.0 must be a finite number > 0"),
        ({"sample_rate": -8.0}, ParameterError, r"sample_rate=-8.0 must be a finite number > 0"),
        ({"stride": 0}, ParameterError, r"stride=0 must be an integer >= 1"),
    ],
)
def test_common_validation(family, overrides, error, match):
    constructor, n_filters, kernel_size, kwargs, _, _ = FAMILIES[family]
    args = {"n_filters": n_filters, "kernel_size": kernel_size, "sample_rate": SR}
    args.update(kwargs)
    args.update(overrides)
    with pytest.raises(error, match=match):
        constructor(args.pop("n_filters"), args.pop("kernel_size"), **args)


@pytest.mark.parametrize("family", BAND_FAMILIES)
@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"fmin": -1.0}, r"fmin=-1.0 must be >= 0"),
        ({"fmin": 5000.0, "fmax": 4000.0}, r"fmin=5000.0 must be < fmax=4000.0"),
        ({"fmin": 4000.0, "fmax": 4000.0}, r"fmin=4000.0 must be < fmax=4000.0"),
        ({"fmax": 9000.0}, r"fmax=9000.0 must be <= sample_rate / 2 = 8000.0"),
        ({"fmin": float("nan")}, r"fmin=nan must be finite"),
    ],
)
def test_band_validation(family, overrides, match):
    with pytest.raises(ParameterError, match=match):
        build(family, **overrides)


def test_band_validation_wavelet():
    with pytest.raises(ParameterError, match=r"fmin=0.0 must be a finite number > 0"):
        build("wavelet", fmin=0.0)
    with pytest.raises(ParameterError, match=r"fmin=-5.0 must be a finite number > 0"):
        build("wavelet", fmin=-5.0)


def test_fmin_type_error():
    with pytest.raises(TypeError, match=r"fmin='low' must be a real number"):
        build("mel", fmin="low")


# ------------------------------------------------------------------------ size checks


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_banks_too_large_for_memory_are_refused_before_building(family, monkeypatch):
    """40 filters of 10^6 taps took about 2 GB (mel, wavelet, gabor) before this check."""
    import fbinit.banks._fir as fir

    calls = []
    monkeypatch.setattr(fir, "place_centered", lambda *a, **k: calls.append(a))  # never reached
    constructor, _, _, kwargs, _, _ = FAMILIES[family]
    size = 10**6 + 1 if family == "sinc" else 10**6
    if family == "gaussian":
        call = lambda: gaussian(40, size, n_draws=4)  # noqa: E731
    else:
        call = lambda: constructor(40, size, sample_rate=SR, **kwargs)  # noqa: E731
    with pytest.raises(ParameterError, match=r"kernel_size=100000\d.* must be smaller: the "):
        call()
    assert calls == []


def test_memory_limit_from_the_environment(monkeypatch):
    monkeypatch.setenv("FBINIT_MEMORY_LIMIT", "8K")
    with pytest.raises(
        ParameterError,
        match=r"n_filters=40, kernel_size=512, n_fft=512 must be "
        r"smaller: the mel bank would take about 1.56 MB of memory, more than the "
        r"limit of 8.00 KB",
    ):
        build("mel")
    monkeypatch.setenv("FBINIT_MEMORY_LIMIT", "lots")
    with pytest.raises(ParameterError, match=r"FBINIT_MEMORY_LIMIT='lots' must be a number"):
        build("mel")


def test_erb_and_mel_gabor_parameters_validate_their_arguments():
    from fbinit.banks import erb_frequencies, mel_gabor_parameters

    with pytest.raises(ParameterError, match="n_filters=0 must be an integer >= 1"):
        erb_frequencies(0, 100.0, 8000.0)
    with pytest.raises(ParameterError, match="fmin=900.0 must be < fmax=800.0"):
        erb_frequencies(4, 900.0, 800.0)
    with pytest.raises(TypeError, match="fmax='8k' must be a real number"):
        erb_frequencies(4, 100.0, "8k")
    with pytest.raises(ParameterError, match="n_fft=0 must be an integer >= 1"):
        mel_gabor_parameters(4, sample_rate=16000, fmin=0.0, fmax=8000.0, n_fft=0)
    with pytest.raises(ParameterError, match=r"fmax=9000.0 must be <= sample_rate / 2"):
        mel_gabor_parameters(4, sample_rate=16000, fmin=0.0, fmax=9000.0, n_fft=512)
