r"""The four distillation teachers of MuReNN (WASPAA 2023), as fixed fbinit frontends.

Each teacher is a fixed complex FIR bank at stride 256 whose target is the squared
modulus of its analysis, :math:`Y = |\Phi x|^2` (frames at ``padding="same"``: odd
kernels, :math:`\lceil N/256 \rceil` frames), on its own offline data
(:mod:`fbinit.bench.data`):

==============  ===========================================================  ======  =====
name            bank                                                         rate    data
==============  ===========================================================  ======  =====
``cqt``         librosa CQT wavelets, 8 bins/octave x 8 octaves from 86.13   44.1k   sines
                Hz (64 filters, nnAudio's fmin = sr/512)
``gammatone``   67 ERB-spaced 4th-order gammatones from 12.5 Hz, 2047 taps   16k     speech
``vqt``         librosa VQT, 96 bins, 13 bins/octave from 100 Hz (librosa's  44.1k   tones
                ERB-like gamma); the reference's 12 bins/octave would put
                the top bins above Nyquist
``third_octave``32 ANSI third-octave bands 15.8 Hz - 20 kHz (order-3            48k     noise
                Butterworth, analytic, 32767 taps)
==============  ===========================================================  ======  =====

Segments are 4096 samples (the reference) except the synthetic CQT task, 16384 in full
mode; the quick and tiny modes use 4096 and 2048 samples for every teacher.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from fbinit.banks.third_octave import third_octave
from fbinit.bench import data as bench_data
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.frontends import ConvFrontend, GammatoneFrontend, WaveletFrontend
from fbinit.frontends.monitor import centre_and_bandwidth, response_power

__all__ = ["MODES", "TEACHERS", "Teacher", "teacher"]

#: teacher names
TEACHERS = ("gammatone", "vqt", "third_octave", "cqt")
#: scale modes
MODES = ("tiny", "quick", "full")
#: stride of every teacher (MuReNN: hop 256)
STRIDE = 256


@dataclass
class Teacher:
    """A fixed frontend, its data and its targets.

    Attributes
    ----------
    name : str
    frontend : torch.nn.Module
        Fixed; (batch, samples) -> (batch, n_filters, frames) squared magnitudes.
    n_filters, kernel_size, stride : int
    sample_rate : float
    band : (fmin, fmax)
        Span of the teacher's passbands in Hz (the in-band kappa of the students).
    n_samples : int
        Segment length.
    centres : numpy.ndarray
        Centre frequency of each filter in Hz (ascending).
    published : str
        The row of the published Table 1 (MuReNN) for this teacher.
    """

    name: str
    frontend: torch.nn.Module
    n_filters: int
    kernel_size: int
    stride: int
    sample_rate: float
    band: tuple[float, float]
    n_samples: int
    centres: np.ndarray
    published: str
    generator: Callable[..., np.ndarray] = field(repr=False)

    def data(self, split: str, n: int, seed: int) -> np.ndarray:
        """``n`` float32 segments (n, n_samples) of a split, seeded."""
        return self.generator(n, self.n_samples, split=split, seed=seed)

    def targets(self, x: Any) -> torch.Tensor:
        """The teacher's squared magnitudes of ``x`` (batch, samples), float32, no graph."""
        with torch.no_grad():
            return self.frontend(torch.as_tensor(x, dtype=torch.float32)).float()

    def dataset(self, split: str, n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Inputs and targets of a split as float32 tensors (cached per process)."""
        return _dataset(self.name, self.n_samples, split, n, seed)

    def bank(self) -> Filterbank:
        """The teacher's analysis kernels as a Filterbank (what the engine correlates with)."""
        return self.frontend.filterbank()


def _centres(frontend: torch.nn.Module) -> np.ndarray:
    fb = frontend.filterbank()
    n_fft = 1 << int(np.ceil(np.log2(max(4 * fb.kernel_size, 8192))))
    centre, _ = centre_and_bandwidth(response_power(fb, n_fft=n_fft), sample_rate=fb.sample_rate)
    return centre.numpy()


@functools.lru_cache(maxsize=16)
def _build(name: str, n_samples: int) -> Teacher:
    if name == "cqt":
        sr = 44100.0
        frontend = WaveletFrontend(
            64, sample_rate=sr, fmin=sr / 512, bins_per_octave=8, stride=STRIDE, modulus="power"
        )
        published = "Synth / CQT"

        def make(lo, hi):
            return functools.partial(
                bench_data.log_sines, sample_rate=sr, fmin=lo, fmax=min(hi, 0.99 * sr / 2)
            )

    elif name == "gammatone":
        sr = 16000.0
        frontend = GammatoneFrontend(
            67, 2047, sample_rate=sr, fmin=12.5, stride=STRIDE, modulus="power"
        )
        published = "Speech / Gammatone"

        def make(lo, hi):
            return functools.partial(bench_data.speech_segments, sample_rate=int(sr))

    elif name == "vqt":
        sr = 44100.0
        frontend = WaveletFrontend.vqt(
            96, sample_rate=sr, fmin=100.0, bins_per_octave=13, stride=STRIDE, modulus="power"
        )
        published = "Music / VQT"

        def make(lo, hi):
            return functools.partial(bench_data.harmonic_tones, sample_rate=sr, fmin=lo, fmax=hi)

    elif name == "third_octave":
        sr = 48000.0
        bank = third_octave(32767, sample_rate=sr, fmin=16.0, stride=STRIDE)
        flipped = Filterbank(
            torch.flip(bank.weights, dims=(-1,)),
            stride=STRIDE,
            sample_rate=sr,
            band=bank.band,
            name=bank.name,
        )
        frontend = ConvFrontend.from_filterbank(
            flipped, learnable=False, modulus="power", padding="same"
        )
        published = "Urban / third-octave"

        def make(lo, hi):
            return functools.partial(
                bench_data.noise_bursts, sample_rate=sr, fmin=max(lo, 20.0), fmax=hi
            )

    else:
        raise ParameterError(f"teacher={name!r} must be one of {TEACHERS}")
    frontend.requires_grad_(False)
    fb = frontend.filterbank()
    lo, hi = frontend.band if frontend.band is not None else (0.0, sr / 2)
    hi = min(hi, 0.99 * sr / 2)
    return Teacher(
        name=name,
        frontend=frontend,
        n_filters=fb.n_filters,
        kernel_size=fb.kernel_size,
        stride=STRIDE,
        sample_rate=sr,
        band=(float(lo), float(hi)),
        n_samples=n_samples,
        centres=_centres(frontend),
        published=published,
        generator=make(lo, hi),
    )


def segment_length(name: str, mode: str) -> int:
    """Samples per segment of a teacher in a mode (see the module docstring)."""
    if mode not in MODES:
        raise ParameterError(f"mode={mode!r} must be one of {MODES}")
    if mode == "tiny":
        return 2048
    if mode == "full" and name == "cqt":
        return 16384
    return 4096


def teacher(name: str, mode: str = "quick") -> Teacher:
    """The teacher ``name`` (one of :data:`TEACHERS`) at the scale of ``mode`` (cached)."""
    if name not in TEACHERS:
        raise ParameterError(f"teacher={name!r} must be one of {TEACHERS}")
    return _build(name, segment_length(name, mode))


@functools.lru_cache(maxsize=32)
def _dataset(
    name: str, n_samples: int, split: str, n: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    t = _build(name, n_samples)
    x = torch.from_numpy(t.data(split, n, seed))
    return x, t.targets(x)
