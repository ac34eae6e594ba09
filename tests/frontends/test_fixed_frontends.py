"""Fixed frontends (STFT, mel, wavelet, gammatone) against their peers and the engine."""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from pathlib import Path

import librosa
import numpy as np
import pytest
import scipy.signal
import torch

from fbinit import ParameterError, as_filterbank, frame_bounds
from fbinit.banks import gammatone, wavelet
from fbinit.frontends import (
    GammatoneFrontend,
    MelFrontend,
    STFTFrontend,
    WaveletFrontend,
    analysis_conv,
)
from fbinit.frontends.engine import n_frames
from fbinit.frontends.fixed import reverse_about_origin
from fbinit.signals import white_noise

SR = 16000.0


@contextmanager
def float64_default():
    """Build modules in float64 so that buffers hold double-precision values."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


# small settings of each fixed frontend: (constructor, kwargs)
SMALL = {
    "stft": (STFTFrontend, {"n_fft": 64, "stride": 16, "win_length": 48}),
    "mel": (MelFrontend, {"n_filters": 8, "n_fft": 64, "stride": 16, "fmin": 300.0}),
    "cqt": (WaveletFrontend, {"n_filters": 12, "fmin": 1000.0, "stride": 16}),
    "gammatone": (
        GammatoneFrontend,
        {"n_filters": 8, "kernel_size": 256, "fmin": 500.0, "stride": 16},
    ),
}


def build(name: str, **overrides):
    constructor, kwargs = SMALL[name]
    return constructor(sample_rate=SR, **{**kwargs, **overrides})


def signals(n: int = 1000) -> dict[str, torch.Tensor]:
    t = np.arange(n)
    return {
        "noise": torch.tensor(white_noise(n, seed=3))[None],
        "silence": torch.zeros(1, n, dtype=torch.float64),
        "square": torch.tensor(np.sign(np.sin(2 * np.pi * 440 * t / SR) + 1e-9))[None],
    }


@pytest.mark.parametrize("padding", ["same", "valid", "circular"])
@pytest.mark.parametrize("name", sorted(SMALL))
def test_analysis_is_the_engine_correlation_with_the_impulse_responses(name, padding):
    # the forward pass before its stages (the mel frontend always has a projection)
    with float64_default():
        frontend = build(name, padding=padding, **({} if name == "mel" else {"modulus": None}))
    x = torch.tensor(white_noise(700, seed=1) + 0.3)[None].repeat(2, 1)
    x[1] *= -2.0
    y = frontend.analyze(x) if name == "mel" else frontend(x)
    expected = analysis_conv(x, frontend.impulse_responses(), stride=16, padding=padding)
    assert (
        y.shape
        == expected.shape
        == (2, expected.shape[1], n_frames(700, frontend.kernel_size, 16, padding))
    )
    scale = expected.abs().max()
    torch.testing.assert_close(y, expected, rtol=0, atol=1e-8 * float(scale))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_layouts_shapes_and_finite_outputs(name):
    frontend = build(name, compression="log")
    n_atoms = frontend.impulse_responses().shape[0]
    for label, x in signals().items():
        x = x.float()
        y2 = frontend(x)
        y3 = frontend(x[:, None, :])
        torch.testing.assert_close(y2, y3)
        assert y2.shape == (1, frontend.n_filters, n_frames(1000, frontend.kernel_size, 16, "same"))
        assert bool(torch.isfinite(y2).all()), label
    assert frontend.n_filters == (8 if name == "mel" else n_atoms)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_double_and_state_dict_keep_buffers_together(name):
    frontend = build(name)
    frontend.double()
    for buffer in frontend.buffers():
        assert buffer.dtype == torch.float64
    w = frontend.impulse_responses()
    assert w.dtype in (torch.float64, torch.complex128)
    x = torch.tensor(white_noise(500, seed=2))[None]
    assert frontend(x).dtype == torch.float64
    copy = build(name).double()
    copy.load_state_dict(frontend.state_dict())
    torch.testing.assert_close(copy(x), frontend(x))


@pytest.mark.parametrize("name", sorted(SMALL))
def test_analysis_functions_accept_the_frontend(name):
    frontend = build(name)
    bank = as_filterbank(frontend)
    assert bank.stride == 16 and bank.sample_rate == SR and bank.name == type(frontend).__name__
    A, B = frame_bounds(frontend, n_fft=1024)
    assert -1e-12 * float(B) <= float(A) <= float(B) and float(B) > 0


def test_gradient_flows_to_the_input_in_float64():
    with float64_default():
        frontend = build("cqt", modulus="power")
    x = torch.tensor(white_noise(120, seed=0))[None].requires_grad_()
    assert torch.autograd.gradcheck(frontend, (x,), eps=1e-6, atol=1e-6)


# -- STFT and mel against torch and librosa -------------------------------------------


@pytest.mark.parametrize("win_length", [None, 400])
def test_stft_equals_torch_stft_and_librosa(win_length):
    with float64_default():
        frontend = STFTFrontend(512, stride=160, win_length=win_length, modulus=None)
    x = white_noise(4000, seed=5)
    y = frontend(torch.tensor(x)[None])[0]
    window = torch.tensor(
        librosa.util.pad_center(
            librosa.filters.get_window("hann", win_length or 512, fftbins=True), size=512
        )
    )
    ref = torch.stft(
        torch.tensor(x),
        512,
        160,
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    torch.testing.assert_close(y, ref, rtol=0, atol=1e-10)
    lib = librosa.stft(x, n_fft=512, hop_length=160, win_length=win_length, pad_mode="constant")
    np.testing.assert_allclose(y.numpy(), lib, rtol=0, atol=1e-6 * np.abs(lib).max())


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"n_filters": 64, "fmin": 0.0, "fmax": None, "htk": True, "norm": None},
        {"win_length": 400, "modulus": "abs"},
        {"n_fft": 1024, "stride": 256, "n_filters": 80},
    ],
)
def test_mel_equals_librosa_melspectrogram(settings):
    kw = {"n_filters": 40, "n_fft": 512, "stride": 160, "fmin": 60.0, "fmax": 7800.0}
    kw.update(settings)
    with float64_default():
        frontend = MelFrontend(sample_rate=SR, **kw)
    x = white_noise(8000, seed=6) * np.hanning(8000)
    y = frontend(torch.tensor(x)[None])[0].numpy()
    ref = librosa.feature.melspectrogram(
        y=x,
        sr=SR,
        n_fft=kw["n_fft"],
        hop_length=kw["stride"],
        win_length=kw.get("win_length"),
        n_mels=kw["n_filters"],
        fmin=kw["fmin"],
        fmax=kw["fmax"],
        htk=kw.get("htk", False),
        norm=kw.get("norm", "slaney"),
        power=1.0 if kw.get("modulus") == "abs" else 2.0,
        pad_mode="constant",
    )
    assert y.shape == ref.shape
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-12 * ref.max())


def test_log_mel_is_the_floored_log_of_the_mel_spectrogram():
    x = torch.tensor(white_noise(3000, seed=7), dtype=torch.float32)[None]
    x[:, :1500] = 0  # silent half: the floor is reached
    linear = MelFrontend(sample_rate=SR)(x)
    logged = MelFrontend(sample_rate=SR, compression="log", log_floor=1e-5)(x)
    torch.testing.assert_close(logged, torch.log(linear.clamp(min=1e-5)))
    assert bool((logged == np.log(np.float32(1e-5))).any())


def test_float32_mel_stays_close_to_librosa():
    x = white_noise(6000, seed=8)
    y = MelFrontend(sample_rate=SR)(torch.tensor(x, dtype=torch.float32)[None])[0].numpy()
    ref = librosa.feature.melspectrogram(
        y=x, sr=SR, n_fft=512, hop_length=160, n_mels=40, pad_mode="constant"
    )
    assert np.abs(y - ref).max() <= 1e-5 * np.abs(ref).max()


# -- wavelets against librosa and nnAudio ------------------------------------------------


@pytest.mark.parametrize("gamma", [0.0, 30.0])
@pytest.mark.parametrize("kernel_size", [None, 1024])
def test_wavelet_frontend_equals_librosa_vqt_on_one_octave(gamma, kernel_size):
    # one octave below Nyquist: librosa computes it at full rate, without resampling
    fmin, n_bins, hop = 2000.0, 12, 256
    with float64_default():
        frontend = WaveletFrontend(
            n_bins, kernel_size, sample_rate=SR, fmin=fmin, gamma=gamma, stride=hop, modulus=None
        )
    x = white_noise(8192, seed=9)
    y = frontend(torch.tensor(x)[None])[0].numpy()
    ref = librosa.vqt(
        x,
        sr=SR,
        hop_length=hop,
        fmin=fmin,
        n_bins=n_bins,
        gamma=gamma,
        scale=False,
        sparsity=0.0,
        pad_mode="constant",
        dtype=np.complex128,
    )
    freqs = librosa.cqt_frequencies(n_bins, fmin=fmin)
    lengths, _ = librosa.filters.wavelet_lengths(freqs=freqs, sr=SR, gamma=gamma)
    frames = min(y.shape[-1], ref.shape[-1])  # odd kernels give one frame less
    # librosa keeps only the wavelets' non-negative DFT bins: a 1e-4 relative difference
    np.testing.assert_allclose(
        y[:, :frames] * lengths[:, None], ref[:, :frames], rtol=0, atol=1e-3 * np.abs(ref).max()
    )


def test_wavelet_frontend_is_close_to_nnaudio_cqt1992v2():
    import nnAudio.features as nnaudio

    fmin, n_bins, hop, bins = 500.0, 36, 128, 12
    # nnAudio's Q = filter_scale / (2^(1/B) - 1); librosa's Q = 1 / alpha: match them
    ratio = 2.0 ** (2.0 / bins)
    alpha = (ratio - 1) / (ratio + 1)
    peer = nnaudio.CQT1992v2(
        sr=int(SR),
        hop_length=hop,
        fmin=fmin,
        n_bins=n_bins,
        bins_per_octave=bins,
        filter_scale=(2 ** (1 / bins) - 1) / alpha,
        pad_mode="constant",
        output_format="Magnitude",
        verbose=False,
    )
    frontend = WaveletFrontend(n_bins, sample_rate=SR, fmin=fmin, stride=hop)
    x = torch.tensor(white_noise(16384, seed=10), dtype=torch.float32)[None]
    ours = frontend(x)[0]
    theirs = peer(x)[0] / peer.lenghts.sqrt()[:, None]  # undo its sqrt(length) scaling
    frames = min(ours.shape[-1], theirs.shape[-1])
    ours, theirs = ours[:, 4 : frames - 4], theirs[:, 4 : frames - 4]
    # different wavelet lengths (nnAudio rounds them up to integers): 1.8% here
    rel = (ours - theirs).norm() / theirs.norm()
    assert float(rel) < 0.03


def test_reverse_about_origin_mirrors_time():
    w = torch.arange(1.0, 8.0)[None]  # odd: plain flip
    torch.testing.assert_close(reverse_about_origin(w), torch.flip(w, (-1,)))
    t = torch.arange(6) - 3  # even: origin at tap 3, t = -3 dropped
    reversed_ = reverse_about_origin(t.double()[None])[0]
    assert reversed_.tolist() == [0.0, 2.0, 1.0, 0.0, -1.0, -2.0]


def test_wavelet_kernels_are_the_bank_reversed():
    frontend = WaveletFrontend(24, 1263, sample_rate=SR, fmin=220.0).double()
    bank = wavelet(24, 1263, sample_rate=SR, fmin=220.0)
    torch.testing.assert_close(
        frontend.impulse_responses(), torch.flip(bank.weights, (-1,)), rtol=0, atol=1e-7
    )
    assert frontend.band == bank.band


def test_vqt_preset_uses_librosas_default_gamma():
    frontend = WaveletFrontend.vqt(24, sample_rate=SR, fmin=220.0)
    alpha = librosa.filters._relative_bandwidth(freqs=librosa.cqt_frequencies(24, fmin=220.0))
    assert frontend.gamma == pytest.approx(24.7 * alpha[0] / 0.108, rel=1e-12)


# -- gammatone against scipy ------------------------------------------------------------


@pytest.mark.parametrize("kernel_size", [256, 257])
def test_gammatone_frontend_is_causal_lfilter_filtering(kernel_size):
    with float64_default():
        frontend = GammatoneFrontend(
            6, kernel_size, sample_rate=SR, fmin=800.0, stride=3, modulus=None
        )
    x = white_noise(3000, seed=11)
    y = frontend(torch.tensor(x)[None])[0].numpy()
    taps = gammatone(6, kernel_size, sample_rate=SR, fmin=800.0).weights.numpy()
    ref = np.stack([scipy.signal.lfilter(h, 1.0, x) for h in taps])
    at = np.arange(y.shape[-1]) * 3 + (kernel_size - 1) // 2
    inside = at < len(x)
    np.testing.assert_allclose(y[:, inside], ref[:, at[inside]], rtol=0, atol=1e-12)


# -- validation and warnings --------------------------------------------------------------


def test_bad_arguments_name_the_rule():
    with pytest.raises(ParameterError, match=r"win_length=600 must be <= n_fft=512"):
        STFTFrontend(512, win_length=600)
    with pytest.raises(ParameterError, match=r"n_fft=1 must be an integer >= 2"):
        STFTFrontend(1)
    with pytest.raises(ParameterError, match=r"modulus=None must be 'power' or 'abs'"):
        MelFrontend(modulus=None)
    with pytest.raises(ParameterError, match=r"fmax=9000.0 must be <= sample_rate / 2"):
        MelFrontend(fmax=9000.0)
    with pytest.raises(ParameterError, match=r"sample_rate=-1.0 must be a finite number > 0"):
        MelFrontend(sample_rate=-1.0)
    with pytest.raises(ParameterError, match=r"padding='zeros' must be one of"):
        STFTFrontend(padding="zeros")
    with pytest.raises(ParameterError, match=r"n_samples=100 must be >= kernel_size=512"):
        STFTFrontend(padding="valid")(torch.zeros(1, 100))
    with pytest.raises(ParameterError, match=r"highest wavelet's passband"):
        WaveletFrontend(96, sample_rate=SR, fmin=110.0)
    with pytest.raises(ParameterError, match=r"fmin=0.0 must be a finite number > 0"):
        WaveletFrontend(12, fmin=0.0)
    with pytest.raises(ParameterError, match=r"order=30 must be an integer in \[1, 24\]"):
        GammatoneFrontend(order=30)
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor"):
        STFTFrontend()(np.zeros((1, 1000)))


def test_degenerate_settings_warn_at_the_callers_line():
    with pytest.warns(UserWarning, match=r"hold no DFT bin") as record:
        MelFrontend(128, 128, sample_rate=SR)
    assert Path(record[0].filename).name == Path(__file__).name
    with pytest.warns(UserWarning, match=r"do not fit kernel_size=256") as record:
        WaveletFrontend(12, 256, sample_rate=SR, fmin=200.0)
    assert Path(record[0].filename).name == Path(__file__).name
    with pytest.warns(UserWarning, match=r"do not fit kernel_size=64") as record:
        GammatoneFrontend(8, 64, sample_rate=SR)
    assert Path(record[0].filename).name == Path(__file__).name
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the defaults fit their kernels
        WaveletFrontend()
        GammatoneFrontend()
        MelFrontend()
