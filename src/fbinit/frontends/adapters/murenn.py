r"""Adapter for murenn's ``MuReNNDirect``: a multirate bank with per-octave strides.

``MuReNNDirect(J=J, Q=Q, T=T, in_channels=1)`` splits the signal with a dual-tree
complex wavelet transform (DTCWT) into J band-pass octaves, octave j (from 0, finest)
sampled at stride :math:`2^{j+1}`, and filters each octave with its own learnable
``Conv1d`` (Q_j kernels of T taps, applied to the real and imaginary parts alike). The
complex coefficients before the modulus are linear in the signal and shift-invariant by
each octave's stride, so filter (j, q) is one complex kernel at stride :math:`2^{j+1}`:
a multirate bank of :math:`\sum_j Q_j` filters. The module then takes the modulus and
low-passes and downsamples each octave to :math:`2^{J_\phi}`; those stages are not part
of the analysis frame.

The DTCWT's own low-pass (the two trees' coarsest scaling coefficients, each at stride
:math:`2^J`, one filter at stride 1 when J = 1) is computed by the forward pass but not
returned by it. With ``lowpass=True`` (the default) it is appended as the last filters:
without it no band-pass covers the lowest frequencies, so the frame of the returned
coefficients alone is singular there (A = 0). ``lowpass=False`` analyses exactly what
the module passes on. Unlike murenn's ``to_conv1d()`` (band-pass only, stride 1) the
kernels keep each octave's stride.

The kernels are found by probing the linear stage with Diracs at every phase of each
stride (:func:`fbinit.frontends.adapters.probe.probe_groups`), running the module's own
DTCWT and ``Conv1d`` layers; they are exact away from the signal's ends, where the DTCWT
pads (``padding_mode``) and each ``Conv1d`` pads with zeros at its octave's rate.
"""

from __future__ import annotations

from typing import Any

import torch

from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank
from fbinit.frontends.adapters.base import Adapted, module_device, module_dtype
from fbinit.frontends.adapters.probe import assemble, probe_groups

__all__ = ["murenn_direct"]


def _linear_stage(module: Any, lowpass: bool):
    """Signals (batch, time) -> complex coefficients of each octave, then the low-pass trees."""
    n_octaves = module.dtcwt.J

    def run(x: torch.Tensor) -> list[torch.Tensor]:
        lp, bps = module.dtcwt(x[:, None])
        out = [
            torch.complex(module.conv1d[j](bps[j].real), module.conv1d[j](bps[j].imag))
            for j in range(n_octaves)
        ]
        if lowpass:
            # from level 2 on, the low-pass interleaves the two trees: lp[2t] is tree a
            out += [lp[..., 0::2], lp[..., 1::2]] if n_octaves > 1 else [lp]
        return out

    return run


def murenn_direct(
    module: Any,
    *,
    lowpass: bool = True,
    sample_rate: float | None = None,
    n_samples: int | None = None,
    rtol: float = 1e-4,
) -> Adapted:
    """``MuReNNDirect`` as a multirate bank (see the module docstring).

    Parameters
    ----------
    module : murenn.MuReNNDirect
        With ``in_channels=1``.
    lowpass : bool
        Append the DTCWT's low-pass filters (two at stride 2^J, one at stride 1 if J = 1).
    sample_rate : float > 0, optional
    n_samples : int, optional
        First probe length (default: 8 times the longest stride, at least 4096).
    rtol : float > 0
        Tolerance of the probe's checks.

    Returns
    -------
    Adapted
        Filters in octave order (Q_0 filters of octave 0 first), then the low-pass; its
        padding aligns frame m of filter j with sample m d_j of the input.
    """
    if module.in_channels != 1:
        raise ParameterError(
            f"in_channels={module.in_channels} must be 1 to read MuReNNDirect as a filterbank"
        )
    n_octaves = module.dtcwt.J
    if n_samples is None:
        n_samples = max(4096, 8 * 2**n_octaves * max(module.T, 32))
    groups = probe_groups(
        _linear_stage(module, lowpass),
        dtype=module_dtype(module),
        device=module_device(module),
        n_samples=n_samples,
        max_stride=2**n_octaves,
        rtol=rtol,
        name="MuReNNDirect",
    )
    expected = [2 ** (j + 1) for j in range(n_octaves)]
    if lowpass:
        expected += [2**n_octaves] * 2 if n_octaves > 1 else [1]
    found = [g.stride for g in groups]
    if found != expected:
        raise ParameterError(
            f"MuReNNDirect strides {found} must be the DTCWT's per-octave strides {expected}"
        )
    weights, strides, offset = assemble(groups)
    bank = Filterbank(weights, stride=strides, sample_rate=sample_rate, name="MuReNNDirect")
    return Adapted(bank, padding=((-offset, bank.kernel_size - 1 + offset, "constant"),))


ADAPTERS = {"MuReNNDirect": murenn_direct}
