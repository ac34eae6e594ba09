r"""Impulse responses of any linear shift-invariant module, found by probing it with Diracs.

A module that is linear and invariant to shifts by its stride d computes

.. math:: y_c[m] = \sum_{t=0}^{K-1} w_c[t]\, x[m d + t + a]

for some kernels :math:`w_c` and one offset a. A Dirac at sample p gives
:math:`y_c[m] = w_c[p - m d - a]`, so the responses to Diracs at the d phases
p, p + 1, ..., p + d - 1 hold every tap of every kernel once. :func:`probe` finds d, reads
the kernels this way and checks, on random signals, each property the formula needs, in
this order, raising a :class:`~fbinit.errors.ParameterError` that names the first one to
fail:

1. the zero signal gives zero output (no bias or additive offset);
2. linearity: :math:`f(x + 2 x') = f(x) + 2 f(x')` (no ReLU, modulus or other nonlinearity);
3. a stride: the output length grows by one frame every d samples, and a Dirac delayed by
   d gives the same output delayed by one frame (no time-varying gain);
4. finite support: the responses fit well inside the probe signal (the signal is doubled
   up to ``max_samples`` until they do);
5. the kernels reproduce the module's output on a random signal (all frames whose window
   lies inside it).

Checks 2 and 5 use the relative tolerance ``rtol``: the module runs in its own precision
(float32 for most), so it cannot be matched better than that precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from fbinit._validate import check_int, check_positive_float
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.frontends.adapters.base import Adapted, module_device, module_dtype
from fbinit.frontends.engine import analysis_conv

__all__ = ["probe", "probe_module", "ProbedGroup", "probe_groups", "assemble"]

#: signals probed at once (bounds the memory of the Dirac batch)
_CHUNK = 64


@dataclass(frozen=True)
class ProbedGroup:
    """The kernels of one output tensor of a probed map.

    ``weights`` (channels, kernel_size) read samples ``m * stride + offset + t`` for frame m.
    """

    weights: torch.Tensor
    stride: int
    offset: int


def probe(
    module: Any,
    *,
    n_samples: int | None = None,
    max_samples: int = 2**20,
    max_stride: int = 4096,
    rtol: float = 1e-4,
    seed: int = 0,
    sample_rate: float | None = None,
) -> Filterbank:
    r"""Impulse responses and stride of a linear shift-invariant module, from Dirac probes.

    Parameters
    ----------
    module : torch.nn.Module or callable
        Maps real signals of shape (batch, 1, time) (or, if it refuses those, (batch, time))
        to one tensor of shape (batch, ..., frames), real or complex: every axis between
        the first and the last is a channel axis. Run in eval mode (its mode is restored
        afterwards) and without autograd.
    n_samples : int >= 16, optional
        Length of the first probe signals (default 4096, or more for large strides);
        doubled until the responses fit.
    max_samples : int >= n_samples
        Longest probe signal tried before concluding the responses are not finite.
    max_stride : int >= 1
        Largest stride considered.
    rtol : float > 0
        Relative tolerance of the linearity and reproduction checks.
    seed : int >= 0
        Seed of the random test signals.
    sample_rate : float > 0, optional
        Attached to the returned bank.

    Returns
    -------
    Filterbank
        The kernels (channels, kernel_size) in the module's dtype (complex for complex
        outputs), trimmed to their common support, at the detected stride, named after the
        module's class.

    Raises
    ------
    ParameterError
        Naming the first property that fails (see the module docstring).

    Examples
    --------
    >>> conv = torch.nn.Conv1d(1, 3, 5, stride=2, padding=2, bias=False)
    >>> bank = probe(conv)
    >>> bank.stride, bank.kernel_size, bool(torch.allclose(bank.weights, conv.weight[:, 0]))
    (2, 5, True)
    """
    return probe_module(
        module,
        n_samples=n_samples,
        max_samples=max_samples,
        max_stride=max_stride,
        rtol=rtol,
        seed=seed,
        sample_rate=sample_rate,
    ).bank


def probe_module(module: Any, *, sample_rate: float | None = None, **options: Any) -> Adapted:
    """:func:`probe`, returning the :class:`Adapted` record.

    Its padding crops or zero-pads the input so that frame m starts at sample m d + a
    (the probed offset a), with K - 1 + a zeros after it (a frame for every start inside
    the signal); frames near the ends of a signal follow the module's own boundary
    handling, which the probe does not see.
    """
    if not callable(module):
        raise TypeError(f"module must be a torch.nn.Module or a callable, got {module!r}")
    fn = _single_output(module)
    name = type(module).__name__
    with _eval_mode(module):
        (group,) = probe_groups(
            fn, dtype=module_dtype(module), device=module_device(module), name=name, **options
        )
    bank = Filterbank(group.weights, stride=group.stride, sample_rate=sample_rate, name=name)
    right = bank.kernel_size - 1 + group.offset
    return Adapted(bank, padding=((-group.offset, right, "constant"),))


def assemble(groups: Sequence[ProbedGroup]) -> tuple[torch.Tensor, tuple[int, ...], int]:
    r"""Put probed groups with different strides and offsets into one multirate bank.

    Each group's kernels are shifted by its offset minus the smallest offset
    :math:`a_0`, so every filter j reads samples :math:`m d_j + t + a_0`: the same
    operator, with one offset for all filters.

    Returns
    -------
    weights : torch.Tensor, shape (n_filters, kernel_size)
    strides : tuple of int, one per filter
    offset : int
        The common offset :math:`a_0`.
    """
    origin = min(g.offset for g in groups)
    size = max(g.offset - origin + g.weights.shape[-1] for g in groups)
    dtype = torch.complex128 if any(g.weights.is_complex() for g in groups) else None
    rows, strides = [], []
    for g in groups:
        w = g.weights if dtype is None else g.weights.to(dtype)
        lead = g.offset - origin
        rows.append(torch.nn.functional.pad(w, (lead, size - lead - w.shape[-1])))
        strides += [g.stride] * w.shape[0]
    return torch.cat(rows), tuple(strides), origin


def probe_groups(
    fn: Callable[[torch.Tensor], Sequence[torch.Tensor]],
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
    n_samples: int | None = None,
    max_samples: int = 2**20,
    max_stride: int = 4096,
    rtol: float = 1e-4,
    seed: int = 0,
    name: str = "module",
) -> list[ProbedGroup]:
    """Probe a map from signals (batch, time) to a list of (batch, channels, frames) tensors.

    Each output tensor is one group with its own stride and offset (see the module
    docstring); the adapters of multirate modules call this directly.
    """
    max_stride = check_int("max_stride", max_stride)
    rtol = check_positive_float("rtol", rtol)
    seed = check_int("seed", seed, minimum=0)
    n = 4096 if n_samples is None else check_int("n_samples", n_samples, minimum=16)
    max_samples = check_int("max_samples", max_samples, minimum=n)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    with torch.no_grad():
        call = _Caller(fn, dtype, device, name)
        _check_linear(call, n, generator, rtol)
        strides = _strides(call, n, max_stride, max_samples, rtol)
        while True:
            groups = _responses(call, n, strides, tail=min(rtol, 1e-3) / 10)
            if groups is not None:
                break
            if 2 * n > max_samples:
                raise ParameterError(
                    f"module={name} must have finite impulse responses: they do not fit in "
                    f"max_samples={max_samples} samples"
                )
            n *= 2
        _check_reproduced(call, groups, n, generator, rtol)
    complex_dtype = (torch.zeros((), dtype=dtype) * 1j).dtype
    return [
        ProbedGroup(
            g.weights.to(complex_dtype if g.weights.is_complex() else dtype), g.stride, g.offset
        )
        for g in groups
    ]


class _Caller:
    """Runs the probed map on a batch of signals, in chunks, in its dtype and on its device."""

    def __init__(self, fn, dtype, device, name):
        self.fn, self.dtype, self.device, self.name = fn, dtype, device, name

    def __call__(self, x: torch.Tensor) -> list[torch.Tensor]:
        parts = []
        for chunk in x.split(_CHUNK):
            out = self.fn(chunk.to(device=self.device, dtype=self.dtype))
            parts.append(
                [y.detach().to("cpu", torch.promote_types(y.dtype, torch.float64)) for y in out]
            )
        return [torch.cat(g) for g in zip(*parts, strict=True)]


def _relative(error: torch.Tensor, scale: torch.Tensor) -> float:
    scale = float(scale)
    return float(error) / scale if scale > 0 else (0.0 if float(error) == 0 else math.inf)


def _check_linear(call: _Caller, n: int, generator: torch.Generator, rtol: float) -> None:
    x = torch.randn(2, n, generator=generator, dtype=torch.float64)
    zero = call(torch.zeros(1, n, dtype=torch.float64))
    y1, y2, y12 = (call(s) for s in (x[:1], x[1:], x[:1] + 2 * x[1:]))
    scale = sum(float(a.abs().max()) for a in y1 + y2)
    if scale == 0:
        raise ParameterError(f"module={call.name} must respond to a signal: its output is zero")
    offset = max(float(z.abs().max()) for z in zero)
    if offset > rtol * scale:
        raise ParameterError(
            f"module={call.name} must be linear: it maps the zero signal to a nonzero output "
            f"(max |y| = {offset:.3g}; a bias or an additive offset?)"
        )
    for a, b, c in zip(y1, y2, y12, strict=True):
        err = _relative(
            torch.linalg.norm(c - a - 2 * b), torch.linalg.norm(a) + 2 * torch.linalg.norm(b)
        )
        if err > rtol:
            raise ParameterError(
                f"module={call.name} must be linear: f(x + 2 x') differs from f(x) + 2 f(x') "
                f"by a relative {err:.3g} > rtol={rtol:g} (a nonlinearity such as ReLU or a "
                "modulus?)"
            )


def _frame_growth(call: _Caller, n: int) -> list[tuple[torch.Tensor, int]]:
    """Each output of a zero signal of length n, and its growth in frames from n to 2n."""
    short = call(torch.zeros(1, n, dtype=torch.float64))
    long = call(torch.zeros(1, 2 * n, dtype=torch.float64))
    return [(a, b.shape[-1] - a.shape[-1]) for a, b in zip(short, long, strict=True)]


def _strides(call: _Caller, n: int, max_stride: int, max_samples: int, rtol: float) -> list[int]:
    """Each group's stride: candidates from the frame counts, confirmed by delayed Diracs.

    The output grows by about n/d frames from length n to 2n; the probe length is raised
    (within ``max_samples``) until that growth pins d down to a few candidates.
    """
    growth = _frame_growth(call, n)
    while min(g for _, g in growth) < 16 and 4 * n <= max_samples:
        n *= 4
        growth = _frame_growth(call, n)
    candidates = []
    for a, grow in growth:
        if a.ndim != 3:
            raise ParameterError(
                f"module={call.name} must return (batch, channels, frames), got shape "
                f"{tuple(a.shape)}"
            )
        if grow <= 0:
            raise ParameterError(
                f"module={call.name} must be a convolution over time: its output length "
                f"{a.shape[-1]} does not grow with the input length"
            )
        lo = max(1, math.floor(n / (grow + 1)))
        hi = min(max_stride, n if grow == 1 else math.ceil(n / (grow - 1)))
        if lo > hi:
            raise ParameterError(
                f"max_stride={max_stride} must be >= the module's stride (about {n // grow})"
            )
        candidates.append(range(lo, hi + 1))
    shifts = sorted({0, *(d for c in candidates for d in c)})
    p = n // 2 - max(shifts) // 2
    diracs = torch.zeros(len(shifts), n, dtype=torch.float64)
    diracs[torch.arange(len(shifts)), p + torch.tensor(shifts)] = 1.0
    outs = call(diracs)
    strides = []
    for y, cands in zip(outs, candidates, strict=True):
        base = y[0]
        scale = float(base.abs().max())
        found = None
        for d in cands:
            moved = y[shifts.index(d)]
            if float((moved[:, 1:] - base[:, :-1]).abs().max()) <= 10 * rtol * scale:
                found = d
                break
        if found is None:
            raise ParameterError(
                f"module={call.name} must be shift-invariant: for no stride in "
                f"[{cands.start}, {cands.stop - 1}] does a Dirac delayed by the stride give "
                "the output delayed by one frame (a time-varying gain?)"
            )
        strides.append(found)
    return strides


def _responses(call: _Caller, n: int, strides: list[int], tail: float) -> list[ProbedGroup] | None:
    """Kernels and offsets of each group, or None if the probe signal is too short.

    Taps below ``tail`` times the largest one (round-off of FFT-based modules) are dropped.
    """
    top = max(strides)
    p = n // 2 - top // 2
    diracs = torch.zeros(top, n, dtype=torch.float64)
    diracs[torch.arange(top), p + torch.arange(top)] = 1.0
    outs = call(diracs)
    groups = []
    for y, d in zip(outs, strides, strict=True):
        frames = y.shape[-1]
        m = torch.arange(frames)
        r = torch.arange(d)
        # a Dirac at p + r seen by frame m is tap s - a of the kernel, s = p + r - m d
        s = (p + r[:, None] - m[None, :] * d).reshape(-1)
        lowest = p - (frames - 1) * d
        values = y[:d].permute(1, 0, 2).reshape(y.shape[1], -1)
        line = torch.zeros(y.shape[1], frames * d, dtype=y.dtype)
        line[:, s - lowest] = values
        mag = line.abs().amax(dim=0)
        keep = torch.nonzero(mag > tail * mag.max()).flatten()
        if keep.numel() == 0:
            return None
        first, last = int(keep[0]), int(keep[-1])
        size = last - first + 1
        # the responses must sit inside the window where no frame touches the signal's ends
        if first == 0 or last == line.shape[-1] - 1 or size > p - 1 or p + top + size > n:
            return None
        groups.append(ProbedGroup(line[:, first : last + 1], d, first + lowest))
    return groups


def _check_reproduced(
    call: _Caller, groups: list[ProbedGroup], n: int, generator: torch.Generator, rtol: float
) -> None:
    """The kernels must give the module's output on a random signal, frame for frame."""
    x = torch.randn(1, n, generator=generator, dtype=torch.float64)
    for y, g in zip(call(x), groups, strict=True):
        size = g.weights.shape[-1]
        first = max(0, -(g.offset // g.stride))  # first frame whose window starts at >= 0
        start = first * g.stride + g.offset
        z = analysis_conv(x[:, start:], g.weights, stride=g.stride, padding="valid")
        count = min(z.shape[-1], y.shape[-1] - first)
        if count < 1 or start + size > n:
            raise ParameterError(
                f"module={call.name} must produce frames inside the signal: none of its "
                f"{y.shape[-1]} frames lies within the {n} probe samples"
            )
        part = y[..., first : first + count]
        err = _relative(torch.linalg.norm(part - z[..., :count]), torch.linalg.norm(part))
        if err > rtol:
            raise ParameterError(
                f"module={call.name} must be shift-invariant with stride {g.stride}: the probed "
                f"kernels reproduce its output on a random signal only to a relative {err:.3g} "
                f"> rtol={rtol:g} (a time-varying gain?)"
            )


def _single_output(module: Any) -> Callable[[torch.Tensor], list[torch.Tensor]]:
    """Wrap a module as a map from (batch, time) to [(batch, channels, frames)].

    The module is given (batch, 1, time) first, then (batch, time) if it refuses that;
    every axis of its output between the first and the last is read as a channel axis.
    """
    layout: list[bool] = []  # [True] once (batch, 1, time) works, [False] for (batch, time)

    def run(x: torch.Tensor) -> list[torch.Tensor]:
        if not layout:
            try:
                y = module(x[:, None])
                layout.append(True)
            except Exception as first:
                try:
                    y = module(x)
                except Exception as second:
                    raise ParameterError(
                        f"module={type(module).__name__} must accept real signals of shape "
                        f"(batch, 1, time) or (batch, time): {first} / {second}"
                    ) from second
                layout.append(False)
        else:
            y = module(x[:, None] if layout[0] else x)
        if not isinstance(y, torch.Tensor):
            raise ParameterError(
                f"module={type(module).__name__} must return one tensor, got {type(y).__name__}"
            )
        if y.ndim < 2 or y.shape[0] != x.shape[0]:
            raise ParameterError(
                f"module={type(module).__name__} must return (batch, ..., frames), got shape "
                f"{tuple(y.shape)} for a batch of {x.shape[0]}"
            )
        return [y.reshape(y.shape[0], -1, y.shape[-1])]

    return run


class _eval_mode:
    """Context manager: the module (if any) in eval mode, its training flags restored after."""

    def __init__(self, module: Any) -> None:
        self.modules = list(module.modules()) if isinstance(module, torch.nn.Module) else []

    def __enter__(self) -> None:
        self.flags = [m.training for m in self.modules]
        for m in self.modules:
            m.training = False

    def __exit__(self, *exc: object) -> None:
        for m, flag in zip(self.modules, self.flags, strict=True):
            m.training = flag
