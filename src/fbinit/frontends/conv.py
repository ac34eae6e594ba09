r"""A free convolutional frontend: every tap is a parameter (real or complex)."""

from __future__ import annotations

import math
from typing import Any

import torch

from fbinit._validate import check_choice, check_int
from fbinit.banks.random import gaussian
from fbinit.errors import ParameterError
from fbinit.filterbank import as_filterbank
from fbinit.frontends.base import Frontend
from fbinit.frontends.stages import FIRPooling, LogCompression, store_tensor

__all__ = ["INITS", "ConvFrontend"]

#: initialisations of :class:`ConvFrontend`
INITS = ("gaussian", "kaiming", "tight")


def _tight(weights: torch.Tensor, stride: int, tol: float, n_fft: int | None) -> torch.Tensor:
    """Tighten a Gaussian draw at ``stride`` (see ConvFrontend's ``init="tight"``)."""
    from fbinit.tight import tighten

    n_filters, kernel_size = weights.shape
    if n_filters < stride:
        raise ParameterError(
            f"n_filters={n_filters} must be >= stride={stride} for init='tight' (fewer "
            "filters than the stride give a singular frame, which no FIR bank makes tight)"
        )
    if n_fft is None:
        n_fft = stride * -(-max(1024, 4 * kernel_size) // stride)
    return tighten(weights, n_fft=n_fft, stride=stride, tol=tol).bank.weights


class ConvFrontend(Frontend):
    r"""Free FIR taps as the analysis stage (a ``Conv1d`` with one input channel).

    Parameters
    ----------
    n_filters : int >= 1
        Number of filters J.
    kernel_size : int >= 1
        Number of taps T.
    stride : int >= 1
        Hop of the analysis convolution.
    init : {"gaussian", "kaiming", "tight"}
        ``"gaussian"``: i.i.d. :math:`\mathcal N(0, \sigma^2)` taps with
        :math:`\sigma^2 = 1/(J T)`, so that the expected Littlewood-Paley sum is 1 (energy
        preserving, :func:`fbinit.banks.gaussian`); ``"kaiming"``: PyTorch's ``Conv1d``
        default, :math:`\mathcal U(-1/\sqrt T, 1/\sqrt T)` (variance :math:`1/(3T)`, an
        expected Littlewood-Paley sum of J/3); ``"tight"``: the Gaussian draw tightened
        at this stride by :func:`fbinit.tight.tighten` (kernel size kept, kappa <= 1 +
        ``tight_tol`` on signals of ``tight_n_fft`` samples, mean frame-operator
        eigenvalue 1). A bank with fewer filters than its stride cannot be a frame: it is
        refused.
    tight_tol : float > 0
        Tolerance of the ``"tight"`` initialisation.
    tight_n_fft : int, optional
        Signal length of the ``"tight"`` initialisation: a multiple of ``stride``, at least
        ``kernel_size`` (default: the smallest multiple of the stride >= max(1024, 4 T)).
    seed : int >= 0, optional
        Seed of a fresh generator (default 0 when ``generator`` is not given).
    generator : torch.Generator, optional
        Source of randomness (exclusive with ``seed``).
    learnable : bool
        Whether the taps are parameters (else buffers).
    sample_rate : float > 0
        Sample rate in Hz.
    **kwargs
        ``padding``, ``modulus``, ``projection``, ``pooling``, ``compression``,
        ``log_floor``, ``band``, ``method`` of :class:`~fbinit.frontends.base.Frontend`.

    Notes
    -----
    A complex bank (:meth:`from_filterbank`) keeps its real and imaginary parts as two
    real tensors ``weight`` and ``weight_imag``; its analysis coefficients are complex,
    as with a real ``Conv1d`` of 2J channels paired into real and imaginary parts.

    Examples
    --------
    >>> frontend = ConvFrontend(8, 64, stride=4, seed=0)
    >>> frontend(torch.zeros(2, 1000)).shape
    torch.Size([2, 8, 251])
    """

    def __init__(
        self,
        n_filters: int,
        kernel_size: int,
        *,
        stride: int = 1,
        init: str = "gaussian",
        tight_tol: float = 1e-2,
        tight_n_fft: int | None = None,
        seed: int | None = None,
        generator: torch.Generator | None = None,
        learnable: bool = True,
        sample_rate: float = 16000.0,
        **kwargs: Any,
    ) -> None:
        n_filters = check_int("n_filters", n_filters)
        kernel_size = check_int("kernel_size", kernel_size)
        init = check_choice("init", init, INITS)
        super().__init__(sample_rate=sample_rate, stride=stride, **kwargs)
        if init in ("gaussian", "tight"):
            weights = gaussian(n_filters, kernel_size, seed=seed, generator=generator).weights
            if init == "tight":
                weights = _tight(weights, self.stride, tight_tol, tight_n_fft)
        else:
            if seed is not None and generator is not None:
                raise ParameterError("seed and generator must not be given together")
            if generator is None:
                generator = torch.Generator().manual_seed(0 if seed is None else seed)
            weights = torch.empty(n_filters, 1, kernel_size)
            torch.nn.init.kaiming_uniform_(weights, a=math.sqrt(5), generator=generator)
            weights = weights[:, 0]
        self.init = init
        store_tensor(self, "weight", weights, learnable)
        self.register_buffer("weight_imag", None)  # the imaginary part of a complex bank

    @classmethod
    def from_filterbank(
        cls,
        bank: Any,
        *,
        learnable: bool = True,
        stride: int | None = None,
        sample_rate: float | None = None,
        **kwargs: Any,
    ) -> ConvFrontend:
        """A free frontend initialised with any filterbank's impulse responses.

        Parameters
        ----------
        bank : Filterbank or filterbank-like
            Anything :func:`fbinit.as_filterbank` accepts (a fixed bank, a frontend, a
            ``Conv1d``); one bank (no batch dimension), real or complex, one stride.
        learnable : bool
            Whether the taps are parameters.
        stride, sample_rate : optional
            Default to the bank's own (sample_rate 16000 Hz if the bank has none).
        **kwargs
            Other keywords of :class:`~fbinit.frontends.base.Frontend`; ``band`` defaults
            to the bank's.

        Examples
        --------
        >>> from fbinit.banks import gabor
        >>> frontend = ConvFrontend.from_filterbank(gabor(4, 129, sample_rate=8e3, fmax=3900.0))
        >>> frontend.impulse_responses().dtype, frontend.band
        (torch.complex64, (60.0, 3900.0))
        """
        fb = as_filterbank(bank)
        if fb.batch_shape:
            raise ParameterError(
                f"bank.weights.shape={tuple(fb.weights.shape)} must be (n_filters, "
                "kernel_size): one bank, no batch dimension"
            )
        if fb.is_multirate and stride is None:
            raise ParameterError(
                f"stride={fb.stride} must be one int: a ConvFrontend has one stride "
                "(pass stride=...)"
            )
        n_filters, kernel_size = fb.n_filters, fb.kernel_size
        kwargs.setdefault("band", fb.band)
        frontend = cls(
            n_filters,
            kernel_size,
            stride=fb.stride if stride is None else stride,
            sample_rate=(fb.sample_rate or 16000.0) if sample_rate is None else sample_rate,
            learnable=learnable,
            **kwargs,
        )
        frontend.init = "filterbank"
        with torch.no_grad():
            frontend.weight.copy_(fb.weights.real)
        if fb.is_complex:
            del frontend.weight_imag
            store_tensor(frontend, "weight_imag", fb.weights.imag, learnable)
        return frontend

    @classmethod
    def td_filterbank(cls, *, learnable: bool = True) -> ConvFrontend:
        """The TD-filterbanks of Zeghidour et al. (ICASSP 2018), mel-initialised.

        40 complex filters of 401 taps at 16 kHz (25 ms), stride 1, initialised as Gabor
        filters matching a 40-band mel filterbank over 0-8000 Hz (n_fft 512); squared
        modulus; a per-channel learnable low-pass of 401 taps at stride 160 (10 ms)
        initialised as a squared Hann window, without padding; :math:`\\log(1 + y)`
        compression. Every tap, of the filters and of the low-pass, is learnable. See
        the presets page of the documentation for each value's source.

        References
        ----------
        N. Zeghidour, N. Usunier, I. Kokkinos, T. Schatz, G. Synnaeve, E. Dupoux, "Learning
        filterbanks from raw speech for phone recognition", ICASSP 2018.

        Examples
        --------
        >>> td = ConvFrontend.td_filterbank()
        >>> td(torch.zeros(1, 16000)).shape
        torch.Size([1, 40, 98])
        """
        from fbinit.frontends.gabor import GaborFrontend  # the LEAF mel-Gabor initialisation

        gabor = GaborFrontend(40, 401, sample_rate=16000.0, fmin=0.0, fmax=8000.0, n_fft=512)
        window = torch.hann_window(401, periodic=False, dtype=torch.float64) ** 2
        return cls.from_filterbank(
            gabor.filterbank(),
            learnable=learnable,
            stride=1,
            sample_rate=16000.0,
            padding="same",
            modulus="power",
            pooling=FIRPooling(window, 40, stride=160, learnable=learnable, padding="valid"),
            compression=LogCompression(1e-12, offset=1.0),
        )

    def impulse_responses(self) -> torch.Tensor:
        """The taps, shape (n_filters, kernel_size), complex for a complex bank."""
        if self.weight_imag is None:
            return self.weight
        return torch.complex(self.weight, self.weight_imag)

    def extra_repr(self) -> str:
        return (
            f"{self.weight.shape[0]}, {self.weight.shape[1]}, init={self.init!r}, "
            + super().extra_repr()
        )
