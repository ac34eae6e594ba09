r"""Reference rows of the throughput benchmark: the mel reference, the peers, naive LEAF.

Rows, each a module taking (batch, time) input at 16 kHz:

- ``"mel-reference"``: ``torch.stft`` (n_fft 512, 25 ms Hann window, hop 160) and a
  40-band librosa mel matrix: the mel frontend every ratio is taken against.
- ``"peer:asteroid-free"``: asteroid-filterbanks ``FreeFB(80, 401, stride=160)``.
- ``"peer:asteroid-paramsinc"``: asteroid-filterbanks ``ParamSincFB(80, 251, stride=1)``.
- ``"peer:nnaudio-mel"``, ``"peer:nnaudio-gammatone"``: nnAudio ``MelSpectrogram`` and
  ``Gammatonegram`` (n_fft 512, hop 160, 40 bands; nnAudio's STFT is a ``conv1d`` with
  the 2 x 257 windowed Fourier kernels).
- ``"peer:murenn"``: murenn ``MuReNNDirect(J=8, Q=5, T=40)``.
- ``"naive-leaf"``: LEAF as its published code computes it, in plain PyTorch (always
  available): an 80-channel real ``conv1d`` (real and imaginary parts of 40 Gabor filters
  of 401 taps), squared modulus, depthwise Gaussian pooling at stride 160, PCEN whose
  smoother loops over frames.

Each row also has an analytic cost (:func:`peer_flops`): FLOP per input sample of its
forward pass, by stage, with the conventions of :mod:`fbinit.bench.throughput`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable

import librosa
import torch
import torch.nn.functional as F

from fbinit.errors import ParameterError
from fbinit.frontends import GaborFrontend

__all__ = [
    "MEL_REFERENCE",
    "PEERS",
    "SAMPLE_RATE",
    "MelReference",
    "NaiveLeaf",
    "installed",
    "label",
    "make",
    "peer_flops",
]

SAMPLE_RATE = 16000
MEL_REFERENCE = "mel-reference"


class MelReference(torch.nn.Module):
    """torch.stft (n_fft 512, 25 ms Hann window, hop 160) and a 40-band mel matrix."""

    def __init__(self) -> None:
        super().__init__()
        mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=512, n_mels=40, fmin=60.0, fmax=7800.0)
        self.register_buffer("mel", torch.from_numpy(mel).float())
        self.register_buffer("window", torch.hann_window(400))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            x, 512, hop_length=160, win_length=400, window=self.window, return_complex=True
        )
        return self.mel @ (spec.real.square() + spec.imag.square())


class NaiveLeaf(torch.nn.Module):
    """LEAF as its published code computes it, in plain PyTorch: an 80-channel real conv1d
    (real and imaginary parts), squared modulus, depthwise Gaussian pooling at stride 160,
    max(., 1e-5), PCEN whose smoother loops over frames. Same parameters as the preset."""

    def __init__(self) -> None:
        super().__init__()
        leaf = GaborFrontend.leaf()
        self.center = torch.nn.Parameter(leaf.center_frequency.detach().clone())
        self.sigma = torch.nn.Parameter(leaf.sigma.detach().clone())
        self.pool_sigma = torch.nn.Parameter(torch.full((40,), 0.4))
        for name in ("alpha", "smooth", "delta", "root"):
            value = leaf.compression.parameters_clamped()[name].detach().clone()
            setattr(self, name, torch.nn.Parameter(value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = math.sqrt(2 * math.log(2)) / math.pi
        mu = torch.clamp(self.center, 0, math.pi)
        sigma = torch.clamp(self.sigma, 4 * scale, 401 * scale)
        t = torch.arange(-200, 201, dtype=x.dtype)
        envelope = torch.exp(-(t**2) / (2 * sigma[:, None] ** 2)) / (
            math.sqrt(2 * math.pi) * sigma[:, None]
        )
        kernels = torch.stack(
            [envelope * torch.cos(mu[:, None] * t), envelope * torch.sin(mu[:, None] * t)], 1
        ).reshape(80, 1, 401)
        y = F.conv1d(x[:, None], kernels, padding=200)
        power = y[:, 0::2].square() + y[:, 1::2].square()
        width = torch.clamp(self.pool_sigma, 2 / 401, 0.5)
        window = torch.exp(
            -0.5 * ((torch.arange(401, dtype=x.dtype) - 200) / (width[:, None] * 200)) ** 2
        )
        pooled = F.conv1d(F.pad(power, (200, 200)), window[:, None], stride=160, groups=40)
        pooled = torch.clamp(pooled, min=1e-5)
        w = torch.clamp(self.smooth, 0, 1)[:, None]
        state = pooled[..., 0]
        smoothed = []
        for m in range(pooled.shape[-1]):
            state = w[:, 0] * pooled[..., m] + (1 - w[:, 0]) * state
            smoothed.append(state)
        smoother = torch.stack(smoothed, -1)
        alpha = torch.clamp(self.alpha, max=1.0)[:, None]
        root = torch.clamp(self.root, min=1.0)[:, None]
        delta = self.delta[:, None]
        return (pooled / (1e-12 + smoother) ** alpha + delta) ** (1 / root) - delta ** (1 / root)


class _Wrap(torch.nn.Module):
    """A peer taking (batch, time) input (adds the channel axis when it wants one)."""

    def __init__(self, module: torch.nn.Module, channel_axis: bool) -> None:
        super().__init__()
        self.module, self.channel_axis = module, channel_axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x[:, None] if self.channel_axis else x)


def _asteroid(kind: str) -> torch.nn.Module:
    from asteroid_filterbanks import Encoder, FreeFB, ParamSincFB

    if kind == "free":
        return _Wrap(Encoder(FreeFB(80, 401, stride=160, sample_rate=SAMPLE_RATE)), True)
    return _Wrap(Encoder(ParamSincFB(80, 251, stride=1, sample_rate=SAMPLE_RATE)), True)


def _nnaudio(kind: str) -> torch.nn.Module:
    from nnAudio import features

    common = {"sr": SAMPLE_RATE, "n_fft": 512, "hop_length": 160, "verbose": False}
    if kind == "mel":
        return _Wrap(features.MelSpectrogram(win_length=400, n_mels=40, **common), False)
    return _Wrap(features.Gammatonegram(n_bins=40, **common), False)


def _murenn() -> torch.nn.Module:
    import murenn

    return _Wrap(murenn.MuReNNDirect(J=8, Q=5, T=40, in_channels=1), True)


#: name -> (module that must be importable or None, human label, factory)
PEERS: dict[str, tuple[str | None, str, Callable[[], torch.nn.Module]]] = {
    MEL_REFERENCE: (None, "torch.stft + mel matmul (reference)", MelReference),
    "peer:asteroid-free": (
        "asteroid_filterbanks",
        "asteroid FreeFB(80, 401, 160)",
        lambda: _asteroid("free"),
    ),
    "peer:asteroid-paramsinc": (
        "asteroid_filterbanks",
        "asteroid ParamSincFB(80, 251, 1)",
        lambda: _asteroid("paramsinc"),
    ),
    "peer:nnaudio-mel": ("nnAudio", "nnAudio MelSpectrogram", lambda: _nnaudio("mel")),
    "peer:nnaudio-gammatone": ("nnAudio", "nnAudio Gammatonegram", lambda: _nnaudio("gamma")),
    "peer:murenn": ("murenn", "murenn MuReNNDirect(J=8, Q=5, T=40)", _murenn),
    "naive-leaf": (None, "plain PyTorch LEAF (naive)", NaiveLeaf),
}


def installed(name: str) -> bool:
    """Whether the peer ``name``'s package can be imported here."""
    module = PEERS[name][0]
    return module is None or importlib.util.find_spec(module) is not None


def label(name: str) -> str:
    """Human label of a peer row."""
    return PEERS[name][1]


def make(name: str) -> torch.nn.Module:
    """A fresh instance of the peer ``name`` (ParameterError if unknown or not installed)."""
    if name not in PEERS:
        raise ParameterError(f"frontend={name!r} must be one of {', '.join(map(repr, PEERS))}")
    if not installed(name):
        raise ParameterError(
            f"frontend={name!r} needs the optional package {PEERS[name][0]!r}, which is not "
            "installed: install it or choose another frontend"
        )
    return PEERS[name][2]()


def _stft_fft(n_fft: int, stride: int) -> float:
    """Per input sample: windowing plus a real FFT of n_fft (2.5 n log2 n) per frame."""
    return (n_fft + 2.5 * n_fft * math.log2(n_fft)) / stride


def peer_flops(name: str, module: torch.nn.Module | None = None) -> dict[str, float]:
    r"""Forward FLOP per input sample of a peer row, by stage.

    Direct convolutions cost :math:`2 J K / d` (J real kernels of K taps at stride d),
    a real FFT of size n :math:`2.5\, n \log_2 n`, a dense projection of J' bands on J
    bins :math:`2 J' J / d`, elementwise stages one FLOP per operation.
    """
    bins, hop = 257, 160
    if name == MEL_REFERENCE:
        # the window is 400 taps zero-padded to 512; the power 3 FLOP per bin
        return {
            "analysis": _stft_fft(512, hop),
            "modulus": 3 * bins / hop,
            "projection": 2 * 40 * bins / hop,
        }
    if name == "peer:asteroid-free":
        return {"analysis": 2 * 80 * 401 / 160}
    if name == "peer:asteroid-paramsinc":
        return {"analysis": 2 * 80 * 251 / 1}
    if name in ("peer:nnaudio-mel", "peer:nnaudio-gammatone"):
        # nnAudio's STFT: conv1d with 2 x 257 kernels of 512 taps at stride 160
        return {
            "analysis": 2 * 2 * bins * 512 / hop,
            "modulus": 3 * bins / hop,
            "projection": 2 * 40 * bins / hop,
        }
    if name == "naive-leaf":
        return {
            "analysis": 2 * 80 * 401,
            "modulus": 3 * 40,
            "pooling": 2 * 40 * 401 / 160,
            "compression": 10 * 40 / 160,
        }
    if name == "peer:murenn":
        return _murenn_flops(module if module is not None else _murenn())
    raise ParameterError(f"frontend={name!r} must be one of {', '.join(map(repr, PEERS))}")


def _murenn_flops(module: torch.nn.Module) -> dict[str, float]:
    r"""MuReNNDirect: the DTCWT cascade, then per octave j a Conv1d of Q filters of T taps
    on the real and imaginary parts at rate :math:`2^{-(j+1)}`, a modulus and a pooling.

    DTCWT: level 1 filters the full-rate signal with h0o and h1o (the low-pass stays at
    full rate); level l >= 2 filters its input (rate :math:`2^{-(l-2)}`) with the four
    q-shift filters and keeps every other output.
    """
    inner = module.module
    dt = inner.dtcwt
    n_levels = int(dt.J)
    h0o, h1o = dt.h0o.shape[-1], dt.h1o.shape[-1]
    qshift = sum(getattr(dt, f).shape[-1] for f in ("h0a", "h0b", "h1a", "h1b"))
    levels = sum(qshift / 2 ** (lev - 2) for lev in range(2, n_levels + 1))
    dtcwt = 2.0 * (h0o + h1o) + levels  # 2 FLOP per tap, every other output kept
    conv = 0.0
    modulus = 0.0
    for j in range(n_levels):
        weight = inner.conv1d[j].weight
        q, taps = weight.shape[0], weight.shape[-1]
        rate = 2.0 ** -(j + 1)
        conv += 2 * 2 * q * taps * rate
        modulus += 4 * q * rate
    return {"analysis": dtcwt + conv, "modulus": modulus, "pooling": modulus / 4}
