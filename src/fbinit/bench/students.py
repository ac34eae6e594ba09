r"""Distillation students matched to a teacher: same filters, stride and frames.

Every student maps (batch, samples) to the squared modulus (batch, n_filters, frames) at
the teacher's stride with ``padding="same"`` and an odd kernel, so its frames are the
teacher's (:math:`\lceil N/d \rceil`). The free convolutions are **complex** (a real and
an imaginary Conv1d, output :math:`\mathrm{Re}^2 + \mathrm{Im}^2`, as the reference's
Conv1D student), 1023 taps (the reference's 1024, made odd).

==================  =====================================================================
name                student
==================  =====================================================================
``conv-gaussian``   i.i.d. :math:`\mathcal N(0, 1/(2JT))` taps (real and imaginary parts:
                    an expected Littlewood-Paley sum of 1)
``conv-kaiming``    PyTorch's Conv1d default :math:`\mathcal U(\pm 1/\sqrt T)` per part
``conv-tight``      the Gaussian draw tightened at stride 1 (flat LP sum,
                    :func:`fbinit.tight.tighten`; with J < d no strided FIR bank is a frame)
``conv-kappa``      ``conv-gaussian`` trained with the penalty :math:`\beta(B/A - 1)`
``gabor``           LEAF-like :class:`~fbinit.frontends.GaborFrontend`, mel init on the
                    teacher's band (mel matrix of a 4096-point DFT)
``sinc``            :class:`~fbinit.frontends.SincFrontend` (real filters, as SincNet:
                    the squared output oscillates, which the students above avoid)
``multires``        :class:`~fbinit.frontends.MultiresFrontend` (MuReNN-like), log2(d)
                    octaves, filters per octave from the teacher's centre frequencies
``conv-lowpass``    ill-conditioned: the Gaussian draw smoothed along time by a Gaussian
                    of 1 tap (high frequencies attenuated, kappa ~ 1e4-1e5)
``conv-rank4``      ill-conditioned: every filter a random mix of 4 Gaussian filters
                    (a rank-4 bank: its LP sum has deep random dips)
``conv-teacher``    the teacher's own kernels as a learnable ConvFrontend (a check)
==================  =====================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from fbinit.bench.teachers import Teacher
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.frontends import ConvFrontend, GaborFrontend, MultiresFrontend, SincFrontend

__all__ = ["ILL_CONDITIONED", "STUDENTS", "Student", "make_student", "octave_counts"]

#: student names of the distillation table
STUDENTS = (
    "conv-gaussian",
    "conv-kaiming",
    "conv-tight",
    "conv-kappa",
    "gabor",
    "sinc",
    "multires",
)
#: deliberately ill-conditioned students (for the prediction analysis)
ILL_CONDITIONED = ("conv-lowpass", "conv-rank4")
#: the check student
CHECK = ("conv-teacher",)
#: default taps of the free students
KERNEL_SIZE = 1023
#: DFT size of the Gabor student's mel initialisation (LEAF: 512 at 16 kHz; 96 mel
#: channels at 44.1 kHz need more bins)
GABOR_N_FFT = 4096
#: taps per octave of the multiresolution student
OCTAVE_KERNEL_SIZE = 32


@dataclass
class Student:
    """A student: the module to train, what its conditioning is measured on, its init.

    Attributes
    ----------
    name : str
    module : torch.nn.Module
        (batch, samples) -> (batch, n_filters, frames).
    frontend : fbinit Frontend
        The analysis stage (``impulse_responses()``) for kappa and the penalty.
    init : str
    penalty : bool
        Whether training adds :math:`\\beta(B/A - 1)`.
    """

    name: str
    module: torch.nn.Module
    frontend: Any
    init: str
    penalty: bool = False

    @property
    def n_params(self) -> int:
        return int(sum(p.numel() for p in self.module.parameters() if p.requires_grad))


class Reordered(torch.nn.Module):
    """A frontend whose output rows are permuted (``perm``)."""

    def __init__(self, frontend: torch.nn.Module, perm: list[int]) -> None:
        super().__init__()
        self.frontend = frontend
        self.register_buffer("perm", torch.as_tensor(perm, dtype=torch.long))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.frontend(x)[:, self.perm]


def _complex_conv(weights: torch.Tensor, teacher: Teacher, init: str) -> ConvFrontend:
    """A complex ConvFrontend from 2J real rows (real parts, then imaginary parts)."""
    j = weights.shape[0] // 2
    bank = Filterbank(
        torch.complex(weights[:j].double(), weights[j:].double()),
        stride=teacher.stride,
        sample_rate=teacher.sample_rate,
        band=teacher.band,
    )
    frontend = ConvFrontend.from_filterbank(bank, modulus="power", padding="same")
    frontend.init = init
    return frontend


def octave_counts(centres: np.ndarray, n_octaves: int, sample_rate: float) -> list[int]:
    r"""Filters per octave (j = 0 highest) of a multiresolution student matching a teacher.

    Octave j covers :math:`(\mathrm{sr}/2^{j+2}, \mathrm{sr}/2^{j+1}]` (octave indices
    rounded to 0.01, so that measured centres on a boundary are not split); the teacher's
    lowest filter goes to the low-pass channel, the others to the octave holding their
    centre (below the lowest octave: the lowest octave). Each octave keeps at least one
    filter, taken from the fullest one. The counts sum to ``len(centres) - 1``.
    """
    if len(centres) < n_octaves + 1:
        raise ParameterError(f"n_filters={len(centres)} must be >= n_octaves + 1 = {n_octaves + 1}")
    ratio = np.log2(sample_rate / 2 / np.asarray(centres[1:], dtype=float))
    j = np.floor(np.round(ratio, 2)).astype(int)
    counts = np.bincount(np.clip(j, 0, n_octaves - 1), minlength=n_octaves)
    while (counts == 0).any():
        counts[np.argmax(counts)] -= 1
        counts[np.argmin(counts)] += 1
    return counts.tolist()


def make_student(
    name: str, teacher: Teacher, *, seed: int = 0, kernel_size: int = KERNEL_SIZE
) -> Student:
    """The student ``name`` (:data:`STUDENTS`, :data:`ILL_CONDITIONED`, ``conv-teacher``)."""
    if kernel_size % 2 == 0:
        raise ParameterError(f"kernel_size={kernel_size} must be odd (frames as the teacher's)")
    J, T, d, sr = teacher.n_filters, kernel_size, teacher.stride, teacher.sample_rate
    gen = torch.Generator().manual_seed(int(seed))
    sigma = math.sqrt(1.0 / (2 * J * T))
    common = {"stride": d, "padding": "same", "modulus": "power"}
    if name in ("conv-gaussian", "conv-kappa"):
        w = torch.randn(2 * J, T, generator=gen, dtype=torch.float64) * sigma
        fe = _complex_conv(w, teacher, "gaussian")
        return Student(name, fe, fe, "gaussian", penalty=name == "conv-kappa")
    if name == "conv-kaiming":
        w = (torch.rand(2 * J, T, generator=gen, dtype=torch.float64) * 2 - 1) / math.sqrt(T)
        return Student(name, fe := _complex_conv(w, teacher, "kaiming"), fe, "kaiming")
    if name == "conv-tight":
        from fbinit.tight import tighten

        w = torch.randn(2 * J, T, generator=gen, dtype=torch.float64) * sigma
        n_fft = 1 << int(math.ceil(math.log2(2 * T)))
        w = tighten(w, n_fft=n_fft, stride=1, tol=1e-2).bank.weights
        return Student(name, fe := _complex_conv(w, teacher, "tight"), fe, "tight")
    if name == "conv-lowpass":
        w = torch.randn(2 * J, T, generator=gen, dtype=torch.float64) * sigma
        t = torch.arange(-4, 5, dtype=torch.float64)
        g = torch.exp(-0.5 * t**2)
        w = torch.nn.functional.conv1d(w[:, None], (g / g.sum())[None, None], padding=4)[:, 0]
        return Student(name, fe := _complex_conv(w, teacher, "lowpass-gaussian"), fe, fe.init)
    if name == "conv-rank4":
        base = torch.randn(4, T, generator=gen, dtype=torch.float64)
        mix = torch.randn(2 * J, 4, generator=gen, dtype=torch.float64)
        w = mix @ base * sigma / 2
        return Student(name, fe := _complex_conv(w, teacher, "rank4-gaussian"), fe, fe.init)
    if name == "conv-teacher":
        fe = ConvFrontend.from_filterbank(teacher.frontend, modulus="power", padding="same")
        return Student(name, fe, fe, "teacher")
    if name == "gabor":
        torch.manual_seed(seed)
        lo, hi = teacher.band
        fe = GaborFrontend(J, T, sample_rate=sr, fmin=lo, fmax=hi, n_fft=GABOR_N_FFT, **common)
        return Student(name, fe, fe, "mel")
    if name == "sinc":
        fe = SincFrontend(J, T, sample_rate=sr, band=teacher.band, **common)
        return Student(name, fe, fe, "mel")
    if name == "multires":
        n_octaves = int(round(math.log2(d)))
        if 2**n_octaves != d:
            raise ParameterError(f"stride={d} must be a power of 2 for the multires student")
        counts = octave_counts(teacher.centres, n_octaves, sr)
        fe = MultiresFrontend(
            n_octaves,
            counts,
            OCTAVE_KERNEL_SIZE,
            sample_rate=sr,
            modulus="power",
            generator=gen,
        )
        # rows: octave 0 (highest) ... octave J-1, low-pass -> ascending frequency
        starts = np.cumsum([0, *counts])
        perm = [J - 1]
        for j in reversed(range(n_octaves)):
            perm.extend(range(starts[j], starts[j + 1]))
        return Student(name, Reordered(fe, perm), fe, "gaussian")
    names = (*STUDENTS, *ILL_CONDITIONED, *CHECK)
    raise ParameterError(f"student={name!r} must be one of {names}")
