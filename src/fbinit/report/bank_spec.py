r"""Bank specifications for reports: which filterbank to analyse, given by name and parameters.

A :class:`BankSpec` names a kind of bank and its parameters, as the command line gives them:

- ``"gaussian"``: random i.i.d. Gaussian banks (:func:`fbinit.banks.gaussian`); a report
  analyses many draws of this configuration;
- ``"mel"``, ``"gammatone"``, ``"wavelet"``, ``"gabor"``, ``"sinc"``: the fixed banks of
  :mod:`fbinit.banks`, with their own parameters;
- ``"torch"``: the Conv1d weight of shape (out_channels, 1, kernel_size) held by a file
  written with ``torch.save`` (a state dict or a whole ``nn.Module``);
- ``"module"``: any frontend module that :mod:`fbinit.frontends.adapters` reads (a
  ``Conv1d``, the peers' frontends, an fbinit ``Frontend``, any linear shift-invariant
  module), given by an import path to a factory, ``"package.module:factory"`` (called
  with ``module_kwargs``), or by a file holding a whole module written by ``torch.save``.

``"gaussian"``, ``"torch"`` and ``"module"`` banks also take ``sample_rate`` and an optional
band ``fmin``/``fmax`` in Hz (used for frequency axes and in-band condition numbers); the
fixed banks take them as their own parameters. A parameter whose value is ``None`` counts
as not given, so command-line defaults can be passed through unchanged.

Loading is safe by default: state dicts and weight files are read with
``torch.load(weights_only=True)``, which runs no code. A whole pickled module can only be
read by unpickling it, which runs code from the file: that needs ``trust_pickle=True``
(``fbinit report --trust-pickle``) and warns.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import os
import pickle
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from fbinit._validate import as_double_tensor, check_choice, check_int, check_positive_float
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank

__all__ = ["BANK_KINDS", "BankSpec", "load_conv1d_bank", "load_module", "resolve_bank"]

#: kinds of bank a report can analyse
BANK_KINDS = ("gaussian", "mel", "gammatone", "wavelet", "gabor", "sinc", "torch", "module")

# constructor of each fixed kind: (module, function), imported when first used
_CONSTRUCTORS = {
    "gaussian": ("fbinit.banks.random", "gaussian"),
    "mel": ("fbinit.banks.mel", "mel"),
    "gammatone": ("fbinit.banks.gammatone", "gammatone"),
    "wavelet": ("fbinit.banks.wavelet", "wavelet"),
    "gabor": ("fbinit.banks.gabor", "gabor"),
    "sinc": ("fbinit.banks.sinc", "sinc"),
}
# parameters of the gaussian and torch kinds that are not constructor arguments
_BAND_PARAMS = ("sample_rate", "fmin", "fmax")
_GAUSSIAN_PARAMS = ("n_filters", "kernel_size", "stride", "sigma", "seed", *_BAND_PARAMS)
_TORCH_PARAMS = ("weights", "key", "stride", "trust_pickle", *_BAND_PARAMS)
_MODULE_PARAMS = ("module", "module_kwargs", "weights", "trust_pickle", *_BAND_PARAMS)


def _constructor(kind: str):
    module, name = _CONSTRUCTORS[kind]
    return getattr(importlib.import_module(module), name)


def _allowed_params(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(allowed, required) parameter names of a kind."""
    if kind == "gaussian":
        return _GAUSSIAN_PARAMS, ("n_filters", "kernel_size")
    if kind == "torch":
        return _TORCH_PARAMS, ("weights",)
    if kind == "module":
        return _MODULE_PARAMS, ("module",)
    sig = inspect.signature(_constructor(kind))
    allowed = tuple(sig.parameters)
    required = tuple(n for n, p in sig.parameters.items() if p.default is inspect.Parameter.empty)
    return allowed, required


@dataclass(frozen=True)
class BankSpec:
    """A kind of filterbank and its parameters, resolved into a :class:`Filterbank` on demand.

    Parameters
    ----------
    kind : {"gaussian", "mel", "gammatone", "wavelet", "gabor", "sinc", "torch", "module"}
        See the module docstring.
    params : mapping of str to value
        Keyword arguments of the kind's constructor (``"gaussian"``: n_filters,
        kernel_size, stride, sigma, seed, sample_rate, fmin, fmax; ``"torch"``: weights (the
        file's path), key, stride, trust_pickle, sample_rate, fmin, fmax; ``"module"``:
        module, module_kwargs, weights, trust_pickle, sample_rate, fmin, fmax, see
        :func:`load_module`). Entries whose value is None are dropped.

    Raises
    ------
    ParameterError
        If the kind is unknown, a parameter does not belong to the kind, or a required
        parameter is missing.

    Examples
    --------
    >>> spec = BankSpec("gaussian", {"n_filters": 10, "kernel_size": 64, "sigma": None})
    >>> spec.is_random, spec.params
    (True, {'n_filters': 10, 'kernel_size': 64})
    >>> tuple(spec.resolve(n_draws=3).weights.shape)
    (3, 10, 64)
    """

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("kind", self.kind, BANK_KINDS)
        if not isinstance(self.params, Mapping):
            raise TypeError(f"params must be a mapping of names to values, got {self.params!r}")
        params = {k: v for k, v in self.params.items() if v is not None}
        allowed, required = _allowed_params(self.kind)
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise ParameterError(
                f"{unknown[0]}={params[unknown[0]]!r} must not be given for bank "
                f"{self.kind!r} (its parameters: {', '.join(allowed)})"
            )
        missing = [name for name in required if name not in params]
        if missing:
            raise ParameterError(f"{missing[0]} must be given for bank {self.kind!r}")
        object.__setattr__(self, "params", params)

    @property
    def is_random(self) -> bool:
        """Whether the spec describes a random configuration (many draws) rather than one bank."""
        return self.kind == "gaussian"

    def label(self) -> str:
        """Short description, e.g. ``gaussian(n_filters=40, kernel_size=1024)``."""
        if self.kind == "module":
            kwargs = _module_kwargs(self.params.get("module_kwargs"))
            args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            return f"{self.params['module']}({args})"
        args = ", ".join(
            f"{k}={Path(v).name if k == 'weights' else v}" for k, v in self.params.items()
        )
        return f"{self.kind}({args})"

    def resolve(self, *, n_draws: int | None = None) -> Filterbank:
        """Build the filterbank.

        Parameters
        ----------
        n_draws : int >= 1, optional
            Number of independent banks drawn at once (``"gaussian"`` only); the weights
            then have shape (n_draws, n_filters, kernel_size).

        Returns
        -------
        Filterbank
        """
        params = dict(self.params)
        if n_draws is not None and not self.is_random:
            raise ParameterError(f"n_draws={n_draws} must be None for the fixed bank {self.kind!r}")
        if self.kind == "module":
            return self.resolve_module()[0]
        if self.kind in ("gaussian", "torch"):
            sample_rate = params.pop("sample_rate", None)
            fmin, fmax = params.pop("fmin", None), params.pop("fmax", None)
            if self.kind == "gaussian":
                bank = _constructor("gaussian")(**params, n_draws=n_draws)
            else:
                bank = load_conv1d_bank(params.pop("weights"), **params)
            return _with_band(bank, sample_rate, fmin, fmax)
        return _constructor(self.kind)(**params)

    def resolve_module(self) -> tuple[Filterbank, Any]:
        """Load a ``"module"`` spec: its analysis bank, and what has energy bounds.

        Returns
        -------
        bank : Filterbank
            The module's analysis stage (float64), with the spec's sample rate and band.
        power : object or None
            The module itself (an fbinit ``Frontend`` with a projection) or its
            :class:`~fbinit.frontends.adapters.Adapted` reading (a peer with a projection),
            for :func:`~fbinit.frontends.adapters.energy_bounds`; None for frontends that
            apply no matrix to a power spectrogram.
        """
        if self.kind != "module":
            raise ParameterError(f"kind={self.kind!r} must be 'module' to load a module")
        from fbinit.filterbank import FilterbankLike, as_filterbank
        from fbinit.frontends.adapters import adapt

        params = self.params
        module = load_module(
            params["module"],
            module_kwargs=params.get("module_kwargs"),
            weights=params.get("weights"),
            trust_pickle=bool(params.get("trust_pickle", False)),
        )
        if isinstance(module, FilterbankLike):
            bank = as_filterbank(module)
            power = module if getattr(module, "projection", None) is not None else None
        else:
            adapted = adapt(module)
            bank = as_filterbank(adapted.bank)
            power = adapted if adapted.projection is not None else None
        bank = dataclasses.replace(bank, name=self.label())
        rate = params.get("sample_rate", bank.sample_rate)
        return _with_band(bank, rate, params.get("fmin"), params.get("fmax")), power


def resolve_bank(kind: str, **params: Any) -> Filterbank:
    """Build the filterbank of a kind from its parameters: ``BankSpec(kind, params).resolve()``.

    Parameters
    ----------
    kind : {"gaussian", "mel", "gammatone", "wavelet", "gabor", "sinc", "torch"}
    **params
        See :class:`BankSpec`.

    Returns
    -------
    Filterbank
        One bank (a ``"gaussian"`` spec gives the draw of its ``seed``, default 0).

    Examples
    --------
    >>> bank = resolve_bank("mel", n_filters=40, kernel_size=401, sample_rate=16000, fmin=60)
    >>> bank.n_filters, bank.kernel_size, bank.band
    (40, 401, (60.0, 8000.0))
    """
    return BankSpec(kind, params).resolve()


def _with_band(bank: Filterbank, sample_rate: Any, fmin: Any, fmax: Any) -> Filterbank:
    """Attach a sample rate and an optional band (fmax defaults to Nyquist) to a bank."""
    if sample_rate is None:
        if fmin is not None or fmax is not None:
            raise ParameterError("fmin and fmax need a sample_rate (sample_rate=None)")
        return bank
    sample_rate = check_positive_float("sample_rate", sample_rate)
    band = None
    if fmin is not None or fmax is not None:
        band = (0.0 if fmin is None else fmin, sample_rate / 2 if fmax is None else fmax)
    return dataclasses.replace(bank, sample_rate=sample_rate, band=band)


# --------------------------------------------------------------------------- torch files


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested mappings (checkpoints often wrap the state dict) into dotted keys."""
    out: dict[str, Any] = {}
    for k, v in obj.items():
        name = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, f"{name}."))
        else:
            out[name] = v
    return out


def _load(path: Path, *, trust_pickle: bool = False) -> Any:
    """``torch.load`` on CPU with ``weights_only=True``; unpickling only with ``trust_pickle``.

    A file that holds more than tensors and plain containers (a whole ``nn.Module``, or
    anything crafted to run code when unpickled) is refused unless ``trust_pickle`` is
    True, in which case it is unpickled, with a warning.
    """
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" not in str(exc):  # not pickled objects: a corrupt file
            raise ParameterError(f"path='{path}' cannot be read by torch.load: {exc}") from exc
        if not trust_pickle:
            raise ParameterError(
                f"path='{path}' holds pickled objects (e.g. a whole module), which "
                "torch.load can read only by running code from the file: pass "
                "trust_pickle=True (fbinit report --trust-pickle) only for a file you trust, "
                "or save a state dict instead"
            ) from exc
    except Exception as exc:  # corrupt or foreign file: torch raises many types
        raise ParameterError(f"path='{path}' cannot be read by torch.load: {exc}") from exc
    warnings.warn(
        f"unpickling '{path}' (trust_pickle=True) runs code from the file",
        UserWarning,
        stacklevel=3,
    )
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise ParameterError(f"path='{path}' cannot be read by torch.load: {exc}") from exc


def load_conv1d_bank(
    path: str | os.PathLike,
    *,
    key: str | None = None,
    stride: int | None = None,
    trust_pickle: bool = False,
) -> Filterbank:
    r"""Read the filters of a one-input-channel Conv1d from a file written by ``torch.save``.

    Parameters
    ----------
    path : str or os.PathLike
        A state dict (possibly nested, e.g. a checkpoint ``{"model": state_dict}``), a bare
        weight tensor, or a whole ``nn.Module``. State dicts are read with
        ``weights_only=True``; a pickled module can only be read by unpickling it
        (``weights_only=False``), which runs code from the file: it needs
        ``trust_pickle=True``.
    key : str, optional
        Which weight to read when there are several: its state-dict key (``"0.weight"``)
        or the name of its module (``"0"``). Default: the first one, with a warning when
        there are others.
    stride : int >= 1, optional
        Stride of the bank. Default: the Conv1d's own stride for a module, else 1.
    trust_pickle : bool
        Unpickle a file that is not a plain state dict (runs code from it; warns).

    Returns
    -------
    Filterbank
        float64 weights of shape (out_channels, kernel_size), named ``"<file>:<key>"``.

    Raises
    ------
    ParameterError
        If the file is missing or unreadable, holds pickled objects without
        ``trust_pickle``, holds no tensor of shape (out_channels, 1, kernel_size), or
        ``key`` names none of them.

    Examples
    --------
    >>> import tempfile, torch
    >>> conv = torch.nn.Conv1d(1, 8, 32, stride=4)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     torch.save(conv.state_dict(), f"{tmp}/conv.pt")
    ...     bank = load_conv1d_bank(f"{tmp}/conv.pt", stride=4)
    >>> bank.n_filters, bank.kernel_size, bank.stride, bank.name
    (8, 32, 4, 'conv.pt:weight')
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"path='{path}' must be an existing file written by torch.save")
    if key is not None and not isinstance(key, str):
        raise TypeError(f"key={key!r} must be a str")
    obj = _load(path, trust_pickle=trust_pickle)
    strides: dict[str, int] = {}
    if isinstance(obj, torch.nn.Module):
        for name, module in obj.named_modules():
            if isinstance(module, torch.nn.Conv1d):
                strides[f"{name}.weight" if name else "weight"] = int(module.stride[0])
        entries = dict(obj.state_dict())
    elif isinstance(obj, Mapping):
        entries = _flatten(obj)
    elif isinstance(obj, torch.Tensor):
        entries = {"": obj}
    else:
        raise ParameterError(
            f"path='{path}' must hold a state dict, a tensor or an nn.Module, "
            f"got {type(obj).__name__}"
        )
    candidates = {
        k: v
        for k, v in entries.items()
        if isinstance(v, torch.Tensor) and v.ndim == 3 and v.shape[1] == 1
    }
    if not candidates:
        shapes = {k: tuple(v.shape) for k, v in entries.items() if isinstance(v, torch.Tensor)}
        raise ParameterError(
            f"path='{path}' must hold a Conv1d weight of shape (out_channels, 1, kernel_size); "
            f"found tensors {shapes or 'none'}"
        )
    if key is None:
        chosen = next(iter(candidates))
        if len(candidates) > 1:
            warnings.warn(
                f"path='{path}' holds {len(candidates)} Conv1d weights "
                f"({', '.join(candidates)}); reading {chosen!r} (pass key to choose)",
                stacklevel=2,
            )
    elif key in candidates:
        chosen = key
    elif f"{key}.weight" in candidates:
        chosen = f"{key}.weight"
    else:
        raise ParameterError(
            f"key={key!r} must name one of the Conv1d weights in '{path}': "
            f"{', '.join(map(repr, candidates))}"
        )
    weights = as_double_tensor(f"{path.name}:{chosen}", candidates[chosen][:, 0, :])
    stride = strides.get(chosen, 1) if stride is None else check_int("stride", stride)
    return Filterbank(weights, stride=stride, name=f"{path.name}:{chosen or 'tensor'}")


# ------------------------------------------------------------------------------ modules


def _module_kwargs(value: Any) -> dict[str, Any]:
    """Keyword arguments of a factory: a mapping, a JSON object string, or None."""
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ParameterError(f"module_kwargs={value!r} must be a JSON object: {exc}") from exc
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ParameterError(f"module_kwargs={value!r} must be a JSON object (names to values)")
    return dict(value)


def _import(target: str) -> Any:
    """The object named by ``package.module:attribute`` (the attribute may be dotted)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ParameterError(
            f"module={target!r} must be an existing file written by torch.save or an "
            "import path 'package.module:factory'"
        )
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise ParameterError(f"module={target!r} must name an importable module: {exc}") from exc
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ParameterError(f"module={target!r} must name an attribute of {module_name}")
        obj = getattr(obj, part)
    return obj


def load_module(
    spec: str | os.PathLike,
    *,
    module_kwargs: Mapping[str, Any] | str | None = None,
    weights: str | os.PathLike | None = None,
    trust_pickle: bool = False,
) -> torch.nn.Module:
    """Load a frontend module from an import path or from a file written by ``torch.save``.

    Parameters
    ----------
    spec : str or os.PathLike
        ``"package.module:factory"`` (the factory, e.g. a class, is called with
        ``module_kwargs``; an attribute that already is a module is used as it is), or the
        path of a file holding a whole pickled module (needs ``trust_pickle``).
    module_kwargs : mapping or JSON object string, optional
        Keyword arguments of the factory, e.g. ``'{"n_filters": 80, "kernel_size": 251}'``.
    weights : str or os.PathLike, optional
        A state dict loaded into the module (``load_state_dict``, strict), always read with
        ``weights_only=True``.
    trust_pickle : bool
        Allow unpickling a whole module from ``spec`` (runs code from the file; warns).

    Returns
    -------
    torch.nn.Module
        In eval mode, on the CPU.

    Raises
    ------
    ParameterError
        If the spec is neither a file nor an import path, the factory fails or returns no
        module, a file needs unpickling without ``trust_pickle``, or the weights do not fit.

    Examples
    --------
    >>> conv = load_module("torch.nn:Conv1d", module_kwargs='{"in_channels": 1, '
    ...                    '"out_channels": 4, "kernel_size": 16, "stride": 8}')
    >>> type(conv).__name__, conv.stride
    ('Conv1d', (8,))
    """
    if not isinstance(spec, (str, os.PathLike)):
        raise TypeError(f"module must be a str or os.PathLike, got {type(spec).__name__}")
    kwargs = _module_kwargs(module_kwargs)
    path = Path(spec)
    if path.is_file():
        if kwargs:
            raise ParameterError(
                f"module_kwargs={kwargs!r} must be empty for a module loaded from a file"
            )
        module = _load(path, trust_pickle=trust_pickle)
        if not isinstance(module, torch.nn.Module):
            raise ParameterError(
                f"module='{path}' must hold a whole nn.Module, got {type(module).__name__} "
                "(for a state dict, give the module's factory and pass the file as weights)"
            )
    else:
        factory = _import(str(spec))
        if isinstance(factory, torch.nn.Module) and not kwargs:
            module = factory
        elif callable(factory):
            try:
                module = factory(**kwargs)
            except Exception as exc:  # the factory's own error, reported with the spec
                raise ParameterError(f"module={str(spec)!r} failed with {kwargs}: {exc}") from exc
        else:
            raise ParameterError(f"module={str(spec)!r} must name a callable factory")
        if not isinstance(module, torch.nn.Module):
            raise ParameterError(
                f"module={str(spec)!r} must return a torch.nn.Module, got {type(module).__name__}"
            )
    if weights is not None:
        weights = Path(weights)
        if not weights.is_file():
            raise ParameterError(f"weights='{weights}' must be an existing file (a state dict)")
        state = _load(weights)
        if isinstance(state, torch.nn.Module) or not isinstance(state, Mapping):
            raise ParameterError(f"weights='{weights}' must hold a state dict")
        try:
            module.load_state_dict(state)
        except RuntimeError as exc:
            raise ParameterError(f"weights='{weights}' must fit the module: {exc}") from exc
    return module.eval()
