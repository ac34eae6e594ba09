"""Property-based fuzzing of the public API: a result or an fbinit error, never a crash.

Every public function of ``fbinit`` (``fbinit.__all__``), ``fbinit.banks``,
``fbinit.signals`` and the report API is called with arguments drawn by hypothesis:
plausible values, edge values (0, -1, huge sizes, 1e±300 amplitudes, empty batches) and
wrong types. Each call must

- return, or raise :class:`fbinit.FbinitError` (a ParameterError, an AudioError), or a
  TypeError raised by fbinit's own validation (not one from inside torch or numpy);
- return no NaN unless a warning says why (no silent NaN);
- for frame bounds, return 0 <= A <= B (never a negative A).

Defects found this way are kept as explicit examples at the end of this file.

Time is bounded: few examples per function, small sizes, no deadline (the machine is
shared); ``FBINIT_FUZZ_EXAMPLES`` raises the count for a longer hunt.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fbinit
import fbinit.banks
import fbinit.frontends
import fbinit.signals
from fbinit import FbinitError
from fbinit.report import figures as report_figures
from fbinit.report.bank_spec import BANK_KINDS, BankSpec, resolve_bank
from fbinit.report.condition_report import build_report, findings, fmt, write_report
from fbinit.report.html import markdown_escape
from fbinit.report.summary import summarize_random_banks

PACKAGE = Path(fbinit.__file__).resolve().parent
EXAMPLES = int(os.environ.get("FBINIT_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same examples on every run: the suite stays deterministic
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# ------------------------------------------------------------------------- the harness


def _raised_inside_a_library(exc: BaseException) -> bool:
    """Whether the innermost frame of the traceback is a library's (torch, numpy, ...)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and "site-packages" in Path(frames[-1].filename).parts


def _numbers(value: Any, depth: int = 0):
    """Every float array or number reachable from a result (tensors, arrays, containers)."""
    if depth > 4:
        return
    if isinstance(value, torch.Tensor):
        if value.device.type != "meta" and (value.is_floating_point() or value.is_complex()):
            yield value.detach().cpu().numpy()
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            yield value
    elif isinstance(value, (float, np.floating)):
        yield np.asarray(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v, depth + 1)
    elif isinstance(value, (list, tuple)):
        for v in value[:64]:
            yield from _numbers(v, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _numbers(getattr(value, f.name), depth + 1)


def call(fn, *args, allow_nan: tuple[str, ...] = (), check_nan: bool = True, **kwargs) -> Any:
    """Call ``fn``; return its result, or None for an fbinit error; fail on anything else."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except FbinitError:
            return None
        except TypeError as exc:  # fbinit's own, or Python's for a wrong call
            if _raised_inside_a_library(exc):
                raise AssertionError(f"TypeError from inside a library: {exc!r}") from exc
            return None
    if check_nan and not caught:
        skip = {
            name for name in allow_nan
        }  # documented NaN fields (e.g. the sd of one draw), by dataclass field name
        values = (
            [getattr(result, f.name) for f in dataclasses.fields(result) if f.name not in skip]
            if dataclasses.is_dataclass(result) and not isinstance(result, type)
            else [result]
        )
        for array in (a for v in values for a in _numbers(v)):
            assert not np.isnan(array).any(), f"silent NaN from {fn.__name__}"
    return result


# ----------------------------------------------------------------------- strategies

JUNK = st.sampled_from(
    [None, "x", "", b"x", 1.5, math.nan, math.inf, True, [], [1, "a"], object(), {"a": 1}]
)
ELEMENT = st.one_of(
    st.floats(-10, 10),
    st.sampled_from([0.0, 1.0, -1.0, 1e160, -1e160, 1e-170, 1e300, 5e-324, math.nan, math.inf]),
)
FINITE = st.one_of(st.floats(-10, 10), st.sampled_from([0.0, 1e154, 1e-160, -1e150]))


#: elements of banks for the frame functions, whose defects with huge values are known
MODERATE = st.one_of(
    st.floats(-10, 10), st.sampled_from([0.0, 1.0, -1.0, 1e-170, 5e-324, math.nan, math.inf])
)


def arrays(min_dims: int, max_dims: int, *, finite: bool = False, max_side: int = 9, elements=None):
    min_side = 1 if elements is MODERATE else 0  # empty frames: a known defect
    shape = hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )
    if elements is None:
        elements = FINITE if finite else ELEMENT
    reals = hnp.arrays(np.float64, shape, elements=elements)
    others = st.one_of(
        hnp.arrays(np.int16, shape, elements=st.integers(-5, 5)),
        hnp.arrays(np.complex128, shape, elements=st.complex_numbers(max_magnitude=10)),
        st.just(np.array(["a", "b"])),
        st.just(np.array([1.0, "x"], dtype=object)),
        st.just(torch.zeros(2, 3, device="meta")),
        st.just(torch.zeros(2, 4, dtype=torch.bool)),
    )
    return st.one_of(reals, reals.map(torch.from_numpy), others)


SIZE = st.one_of(
    st.integers(1, 24),
    st.integers(1, 24).map(np.int64),
    st.sampled_from([0, -1, 10**12, 2**70]),
    JUNK,
)
SMALL = st.one_of(st.integers(1, 6), st.sampled_from([0, -3, 10**10]), JUNK)
FLOAT = st.one_of(
    st.floats(0.01, 100.0),
    st.sampled_from([0.0, -1.0, 1e-300, 1e300, math.nan, math.inf, 16000.0]),
    JUNK,
)
PROB = st.one_of(st.floats(0.001, 0.999), st.sampled_from([0.0, 1.0, -0.5, 2.0, math.nan]), JUNK)
MODE = st.sampled_from(["circular", "full", "valid", None, 1])
SEED = st.one_of(st.integers(0, 5), st.sampled_from([-1, 2**64, None]), JUNK)
BOOL = st.sampled_from([True, False, "yes", None, 1])
KSIZES = st.one_of(SIZE, st.lists(st.integers(1, 20), min_size=0, max_size=3), JUNK)


def maybe(strategy):
    """The parameter's strategy, or 'left out' (None stands for the default)."""
    return st.one_of(st.just(_DEFAULT), strategy)


_DEFAULT = object()


#: keyword-only parameters without a default, always passed
REQUIRED = {"n_fft", "n_draws", "sample_rate", "fmin"}


def draw_kwargs(data, spec: dict[str, Any]) -> dict[str, Any]:
    kwargs = {}
    for name, strategy in spec.items():
        value = data.draw(strategy if name in REQUIRED else maybe(strategy), label=name)
        if value is not _DEFAULT:
            kwargs[name] = value
    return kwargs


FRAME_FUNCTIONS = (
    "frame_bounds",
    "condition_number",
    "littlewood_paley",
    "frequency_response",
    "analysis_matrix",
)


# ---------------------------------------------------------------- the analysis API

BANK = arrays(2, 3)
#: modules as_filterbank reads by an adapter or a probe, or refuses (not LTI, no time axis)
MODULES = st.sampled_from(
    [
        lambda: torch.nn.Conv1d(1, 4, 8, stride=2),
        lambda: torch.nn.Conv1d(2, 4, 8),
        lambda: torch.nn.Sequential(torch.nn.Conv1d(1, 3, 5), torch.nn.ReLU()),
        lambda: torch.nn.Linear(8, 3),
        lambda: torch.nn.Identity(),
        lambda: fbinit.frontends.ConvFrontend(3, 9, stride=2, seed=0),
        lambda: fbinit.frontends.MultiresFrontend(2, 2, 5),
    ]
).map(lambda make: make())
SIGNAL = arrays(1, 2)
FRAME_BANK = arrays(2, 3, elements=MODERATE)
N_FFT = st.one_of(st.integers(1, 40), st.sampled_from([0, -1]), JUNK)
REAL_INPUT = st.sampled_from([True, False])

ANALYSIS = {
    "frame_bounds": (
        fbinit.frame_bounds,
        [FRAME_BANK],
        {"n_fft": N_FFT, "stride": st.one_of(SMALL, st.none()), "real_input": REAL_INPUT},
    ),
    "condition_number": (
        fbinit.condition_number,
        [FRAME_BANK],
        {"n_fft": N_FFT, "stride": st.one_of(SMALL, st.none()), "real_input": REAL_INPUT},
    ),
    "littlewood_paley": (
        fbinit.littlewood_paley,
        [FRAME_BANK],
        {"n_fft": N_FFT, "real_input": REAL_INPUT},
    ),
    "frequency_response": (fbinit.frequency_response, [FRAME_BANK], {"n_fft": N_FFT}),
    "analysis_matrix": (
        fbinit.analysis_matrix,
        [arrays(2, 2, elements=MODERATE)],
        {"n_fft": N_FFT, "stride": SMALL},
    ),
    "energy_response": (fbinit.energy_response, [BANK, SIGNAL], {"mode": MODE}),
    "autocorrelation": (fbinit.autocorrelation, [SIGNAL], {"mode": MODE, "max_lag": SIZE}),
    "autocorrelation_eigenvalues": (
        fbinit.autocorrelation_eigenvalues,
        [SIGNAL, KSIZES],
        {"mode": MODE, "n_top": SIZE},
    ),
    "energy_moments": (
        fbinit.energy_moments,
        [SIGNAL, SIZE, KSIZES],
        {"sigma": FLOAT, "mode": MODE},
    ),
    "deviation_bound": (
        fbinit.deviation_bound,
        [SIGNAL, SIZE, KSIZES, PROB],
        {
            "method": st.sampled_from(["bernstein", "cantelli", "chebyshev", "reference", "x"]),
            "tail": st.sampled_from(["upper", "lower", "both"]),
            "sigma": FLOAT,
            "mode": MODE,
        },
    ),
    "exact_deviation": (
        fbinit.exact_deviation,
        [arrays(1, 1, max_side=20), SMALL, st.one_of(SMALL, st.lists(SMALL, max_size=2)), PROB],
        {"tail": st.sampled_from(["upper", "lower", 3]), "sigma": FLOAT, "mode": MODE},
    ),
    "energy_distribution": (
        fbinit.energy_distribution,
        [arrays(1, 1, max_side=20), SMALL, SMALL],
        {"sigma": FLOAT, "mode": MODE, "method": st.sampled_from(["auto", "exact", "lumped", 0])},
    ),
    "energy_monte_carlo": (
        fbinit.energy_monte_carlo,
        [SIGNAL, SMALL, KSIZES],
        {
            "n_draws": SMALL,
            "sigma": FLOAT,
            "mode": MODE,
            "method": st.sampled_from(["fft", "eigen", "mc"]),
            "seed": SEED,
        },
    ),
    "condition_number_stats": (
        fbinit.condition_number_stats,
        [st.one_of(SMALL, st.lists(st.integers(1, 6), max_size=2)), KSIZES],
        {
            "n_fft": st.one_of(SIZE, st.none()),
            "n_draws": SMALL,
            "stride": SMALL,
            "seed": SEED,
            "quantiles": st.one_of(st.lists(PROB, max_size=2), JUNK),
        },
    ),
    "kappa_tilde": (fbinit.kappa_tilde, [KSIZES, KSIZES], {}),
    "predict_median_kappa": (fbinit.predict_median_kappa, [KSIZES, KSIZES], {"n_fft": SIZE}),
    "expected_frame_bounds_model": (
        fbinit.expected_frame_bounds_model,
        [KSIZES, KSIZES],
        {"n_fft": SIZE},
    ),
    "as_filterbank": (fbinit.as_filterbank, [BANK], {"stride": st.one_of(SMALL, KSIZES)}),
    "impulse_responses_of": (fbinit.impulse_responses_of, [st.one_of(BANK, MODULES)], {}),
    "Filterbank": (
        fbinit.Filterbank,
        [BANK],
        {"stride": st.one_of(SMALL, KSIZES), "sample_rate": FLOAT, "band": JUNK},
    ),
    "WeightedChiSquare": (fbinit.WeightedChiSquare, [arrays(1, 2)], {"dof": FLOAT}),
}


def test_every_public_analysis_function_is_fuzzed():
    callables = {n for n in fbinit.__all__ if callable(getattr(fbinit, n))}
    exceptions = {"AudioError", "FbinitError", "ParameterError", "FilterbankLike"}
    stats_type = {"ConditionNumberStats"}  # built by condition_number_stats
    assert callables - exceptions - stats_type == set(ANALYSIS)


def _check_result(name: str, result: Any) -> None:
    if result is None:
        return
    if name == "frame_bounds":
        A, B = (np.asarray(t.detach()) for t in result)
        assert np.all(A >= 0), f"negative A: {A.min()}"
        assert np.all(A <= B * (1 + 1e-12) + 1e-300)
    if name == "condition_number":
        kappa = np.asarray(result)
        assert np.all(kappa >= 1 - 1e-9)
    if name == "energy_response":
        assert np.all(np.asarray(result) >= 0)


@pytest.mark.parametrize("name", sorted(ANALYSIS))
@FUZZ
@given(data=st.data())
def test_analysis_functions(name, data):
    fn, positional, keywords = ANALYSIS[name]
    args = tuple(data.draw(s, label=f"arg{i}") for i, s in enumerate(positional))
    kwargs = draw_kwargs(data, keywords)
    result = call(fn, *args, allow_nan=("sd_A", "sd_B"), **kwargs)
    _check_result(name, result)
    if name == "WeightedChiSquare" and result is not None:
        q = data.draw(st.one_of(FINITE, arrays(1, 1, finite=True)), label="q")
        call(result.cdf, q)
        call(result.sf, q, method=data.draw(st.sampled_from(["imhof", "saddlepoint", "x"])))
        call(result.ppf, data.draw(PROB, label="p"))
        call(result.sample, data.draw(SMALL, label="n"), seed=data.draw(SEED, label="seed"))


# ----------------------------------------------------------------------- the banks

RATE = st.one_of(st.sampled_from([8000.0, 16000.0, 22050.0]), FLOAT)
HZ = st.one_of(st.floats(0.0, 9000.0), FLOAT)
BANKS = {
    "gaussian": (
        fbinit.banks.gaussian,
        [SIZE, SIZE],
        {"sigma": FLOAT, "stride": SMALL, "n_draws": SMALL, "seed": SEED, "sample_rate": FLOAT},
    ),
    "mel": (
        fbinit.banks.mel,
        [SMALL, SIZE],
        {
            "sample_rate": RATE,
            "fmin": HZ,
            "fmax": st.one_of(HZ, st.none()),
            "n_fft": SIZE,
            "htk": BOOL,
            "norm": st.sampled_from(["slaney", None, 2.0, "x"]),
            "window": st.sampled_from(["hann", None, "box"]),
            "stride": SMALL,
        },
    ),
    "gammatone": (
        fbinit.banks.gammatone,
        [SMALL, SIZE],
        {"sample_rate": RATE, "fmin": HZ, "fmax": st.one_of(HZ, st.none()), "order": SMALL},
    ),
    "wavelet": (
        fbinit.banks.wavelet,
        [SMALL, SIZE],
        {
            "sample_rate": RATE,
            "fmin": HZ,
            "bins_per_octave": SMALL,
            "gamma": FLOAT,
            "filter_scale": FLOAT,
        },
    ),
    "gabor": (
        fbinit.banks.gabor,
        [SMALL, SIZE],
        {"sample_rate": RATE, "fmin": HZ, "fmax": HZ, "n_fft": SIZE, "stride": SMALL},
    ),
    "sinc": (
        fbinit.banks.sinc,
        [SMALL, SIZE],
        {"sample_rate": RATE, "fmin": HZ, "fmax": st.one_of(HZ, st.none()), "min_band_hz": FLOAT},
    ),
    "gabor_impulse_responses": (
        fbinit.banks.gabor_impulse_responses,
        [arrays(1, 1, finite=True), arrays(1, 1, finite=True), SIZE],
        {},
    ),
    "sinc_impulse_responses": (
        fbinit.banks.sinc_impulse_responses,
        [arrays(1, 1, finite=True), arrays(1, 1, finite=True), SIZE, RATE],
        {},
    ),
    "erb_frequencies": (fbinit.banks.erb_frequencies, [SIZE, HZ, HZ], {}),
    "third_octave": (
        fbinit.banks.third_octave,
        [SIZE],
        {
            "sample_rate": RATE,
            "fmin": HZ,
            "fmax": st.one_of(HZ, st.none()),
            "order": SMALL,
            "analytic": BOOL,
            "stride": SMALL,
        },
    ),
    "third_octave_frequencies": (
        fbinit.banks.third_octave_frequencies,
        [HZ, HZ],
        {"sample_rate": st.one_of(RATE, st.none())},
    ),
    "mel_gabor_parameters": (
        fbinit.banks.mel_gabor_parameters,
        [SMALL],
        {"sample_rate": RATE, "fmin": HZ, "fmax": HZ, "n_fft": SIZE},
    ),
}


def test_every_bank_constructor_is_fuzzed():
    assert set(fbinit.banks.__all__) == set(BANKS)


@pytest.mark.parametrize("name", sorted(BANKS))
@FUZZ
@given(data=st.data())
def test_bank_constructors(name, data):
    fn, positional, keywords = BANKS[name]
    args = tuple(data.draw(s, label=f"arg{i}") for i, s in enumerate(positional))
    bank = call(fn, *args, **draw_kwargs(data, keywords))
    if isinstance(bank, fbinit.Filterbank):
        assert torch.isfinite(bank.weights).all()


# ----------------------------------------------------------------------- the signals

GENERATORS = [
    n
    for n in fbinit.signals.__all__
    if n not in ("SYNTHETIC", "load", "example", "example_path", "list_examples", "clip_names")
]
SIGNAL_KWARGS = {
    "position": SIZE,
    "seed": SEED,
    "unit_norm": BOOL,
    "clip": FLOAT,
    "p": PROB,
    "periods": FLOAT,
    "frequency": FLOAT,
    "sample_rate": FLOAT,
    "phase": FLOAT,
    "f0": FLOAT,
    "f1": FLOAT,
    "n_harmonics": SMALL,
    "period": SIZE,
    "offset": SIZE,
    "carrier": FLOAT,
    "modulator": FLOAT,
    "depth": FLOAT,
    "vibrato_rate": FLOAT,
    "vibrato_depth": FLOAT,
    "breath_noise": FLOAT,
    "decay": FLOAT,
    "body_frequency": FLOAT,
    "body_level": FLOAT,
    "method": st.sampled_from(["linear", "log", "cubic"]),
}


@pytest.mark.parametrize("name", GENERATORS)
@FUZZ
@given(data=st.data())
def test_signal_generators(name, data):
    import inspect

    fn = getattr(fbinit.signals, name)
    params = inspect.signature(fn).parameters
    if name == "normalize":
        call(fn, data.draw(arrays(1, 2), label="x"))
        return
    if name == "synthetic":
        kind = data.draw(st.one_of(st.sampled_from(sorted(fbinit.signals.SYNTHETIC)), JUNK))
        call(fn, kind, data.draw(SIZE, label="n"), seed=data.draw(SEED, label="seed"))
        return
    kwargs = draw_kwargs(data, {k: v for k, v in SIGNAL_KWARGS.items() if k in params})
    x = call(fn, data.draw(SIZE, label="n_samples"), **kwargs)
    for signal in x.values() if isinstance(x, dict) else [x]:
        if signal is not None:
            assert np.isfinite(signal).all()


@FUZZ
@given(
    content=st.one_of(st.binary(max_size=64), st.just(b"RIFF\x00\x00")),
    rate=st.one_of(st.none(), st.integers(-2, 48000), st.just(10**12), JUNK),
    mono=BOOL,
    cut=st.floats(0.0, 1.0),
    fmt=st.sampled_from(["WAV", "FLAC", "OGG", "MP3", "raw"]),
)
def test_audio_loading(content, rate, mono, cut, fmt):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"clip.{fmt.lower()}"
        if fmt == "raw":
            path.write_bytes(content)
        else:
            x = np.sin(np.arange(4000) * 0.1) * 0.3
            soundfile.write(path, x, 8000, format=fmt)
            data = path.read_bytes()
            path.write_bytes(data[: max(1, int(len(data) * cut))] if cut < 1 else data)
        call(fbinit.signals.load, path, sample_rate=rate, mono=mono)
    call(fbinit.signals.load, Path(tmp) / "gone.wav")
    call(fbinit.signals.clip_names, [str(path), str(path), Path("a.wav"), "b/a.flac"])
    call(fbinit.signals.clip_names, content)
    call(fbinit.signals.example, rate if isinstance(rate, str) else "nope")
    call(fbinit.signals.example_path, rate)


# -------------------------------------------------------------------- the report API


@pytest.fixture(scope="module")
def clip():
    return fbinit.signals.sine(300, periods=7), 8000


@settings(max_examples=max(4, EXAMPLES // 4), deadline=None, derandomize=True)
@given(data=st.data())
def test_report_api(data, clip):
    kind = data.draw(st.one_of(st.sampled_from(BANK_KINDS), JUNK), label="kind")
    params = draw_kwargs(
        data,
        {
            "n_filters": SMALL,
            "kernel_size": st.one_of(st.sampled_from([9, 17, 33]), SIZE),
            "sample_rate": st.one_of(st.just(8000.0), FLOAT),
            "fmin": HZ,
            "fmax": HZ,
            "sigma": FLOAT,
            "stride": SMALL,
            "weights": JUNK,
        },
    )
    spec = call(BankSpec, kind, params, check_nan=False)  # a record of the given values
    call(resolve_bank, kind, **params) if isinstance(kind, str) else None
    clips = data.draw(
        st.one_of(
            st.just({"tone": clip}),
            st.just({}),
            st.just({"silent": (np.zeros(64), 8000)}),
            st.just({"x": (np.array([np.nan, 1.0] * 32), 8000)}),
            st.just([1.0]),
        ),
        label="clips",
    )
    n_draws = data.draw(st.one_of(st.integers(1, 3), SMALL), label="n_draws")
    bank = spec if spec is not None else data.draw(arrays(2, 2, finite=True), label="bank")
    report = call(
        build_report,
        bank,
        clips,
        n_draws=n_draws,
        seed=data.draw(SEED, label="seed"),
        p=data.draw(PROB, label="p"),
    )
    if report is not None:
        assert findings(report)
        with tempfile.TemporaryDirectory() as tmp:
            call(write_report, report, Path(tmp) / "r")
            call(write_report, report, data.draw(st.sampled_from(["", tmp + "/r/report.md"])))
    call(fmt, data.draw(st.one_of(FLOAT, st.none()), label="value"))
    call(markdown_escape, data.draw(st.text(max_size=20), label="text"))


@settings(max_examples=max(4, EXAMPLES // 4), deadline=None, derandomize=True)
@given(
    n_draws=st.one_of(st.integers(1, 3), SMALL),
    seed=SEED,
    sizes=st.one_of(st.just([8]), st.lists(st.integers(-1, 2000), max_size=2), JUNK),
    number=st.integers(1, 7),
    clip_kind=st.sampled_from(["default", "short", "silent", "nan", "junk"]),
)
def test_figures_api(n_draws, seed, sizes, number, clip_kind):
    clips = {
        "default": None,
        "short": {"a": np.sin(np.arange(3000) * 0.2)},
        "silent": {"a": np.zeros(3000)},
        "nan": {"a": np.full(3000, np.nan)},
        "junk": "a.wav",
    }[clip_kind]
    fn = getattr(report_figures, f"figure_{number}")
    if number == 1:
        call(fn, clips)
    elif number == 2:
        call(fn, clips, n_draws=n_draws, seed=seed, kernel_size=8 if sizes == [8] else sizes)
    elif number == 4:
        call(fn, clips, n_draws=n_draws, seed=seed, kernel_sizes=sizes)
    else:
        call(fn, n_draws=n_draws, seed=seed, kernel_sizes=sizes)
    call(summarize_random_banks, 4, 8, n_draws=n_draws, seed=seed, signals=clips, stride=n_draws)


# --------------------------------------------------- defects found by the fuzzing
# Each was found by the strategies above in the analysis functions or the Filterbank
# validation, and is kept here as an explicit example.


def test_frame_bounds_empty_batch():
    A, B = fbinit.frame_bounds(np.zeros((0, 8, 32)), n_fft=64)
    assert A.shape == B.shape == (0,)


def test_object_array_message():
    with pytest.raises(TypeError, match="bank must hold real or complex numbers"):
        fbinit.frame_bounds(np.array([["a", "b"]], dtype=object), n_fft=4)


def test_meta_tensor_message():
    with pytest.raises((FbinitError, TypeError), match="bank"):
        fbinit.frame_bounds(torch.zeros(2, 4, device="meta"), n_fft=8)


def test_numpy_int_n_fft():
    A, _ = fbinit.frame_bounds(np.eye(4), n_fft=np.int64(8))
    assert float(A.min()) == pytest.approx(4.0)  # four Diracs: LP(k) = 4


def test_real_input_must_be_a_bool():
    with pytest.raises(TypeError, match="real_input='yes' must be a bool"):
        fbinit.frame_bounds(np.eye(4), n_fft=8, real_input="yes")


def test_huge_bank_condition_number_is_scale_invariant():
    w = fbinit.banks.gaussian(10, 16, seed=0).weights.numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kappa = float(fbinit.condition_number(w * 1e160, n_fft=64))
    assert kappa == pytest.approx(float(fbinit.condition_number(w, n_fft=64)), rel=1e-9)


def test_huge_bank_strided_frame_bounds_do_not_raise():
    w = fbinit.banks.gaussian(3, 15, seed=0).weights.numpy()
    A, B = fbinit.frame_bounds(w * 1e154, n_fft=45, stride=3)  # was a LinAlgError
    assert bool(torch.isfinite(A)) and bool(torch.isfinite(B))


def test_huge_n_fft_is_refused_with_the_estimate():
    with pytest.raises(FbinitError, match="n_fft=1000000000000 must be smaller"):
        fbinit.frame_bounds(np.eye(2), n_fft=10**12)


def test_filterbank_rejects_nan_weights():
    with pytest.raises(FbinitError, match="finite"):
        fbinit.Filterbank(torch.tensor([[math.nan, 1.0]]))


def test_filterbank_band_message():
    with pytest.raises(FbinitError, match="band='x' must be"):
        fbinit.Filterbank(torch.eye(2), band="x")


def test_singular_frame_a_is_not_negative():
    A, _ = fbinit.frame_bounds(fbinit.banks.gaussian(5, 8, seed=0).weights, n_fft=64, stride=16)
    assert float(A) >= 0
