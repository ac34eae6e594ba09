"""The registry of experiments: a name, a function of keyword parameters and a seed.

The sweep engine knows no experiment by name. An experiment registers itself with
:func:`register`; modules that register experiments are found through the
``fbinit.experiments`` entry-point group (the package's own: ``scaling``, ``energy`` and
``frame`` in :mod:`fbinit.analysis.experiments`) or imported by name (the ``imports`` key
of a sweep file), in the process that runs the task as well as in the one that plans it.

An experiment function takes its parameters as keywords and the task's seed as ``seed``
and returns a JSON-able mapping of results::

    from fbinit.sweep import register

    @register("toy.mean")
    def mean_of_draws(*, n: int, scale: float = 1.0, seed: int) -> dict:
        rng = np.random.default_rng(seed)
        x = scale * rng.standard_normal(n)
        return {"mean": float(x.mean()), "draws": x}  # arrays are stored as lists

Its parameters and their defaults are read from the signature (keyword parameters other
than ``seed``; no ``*args`` or ``**kwargs``).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

from fbinit.errors import ParameterError

__all__ = [
    "ENTRY_POINT_GROUP",
    "Experiment",
    "get_experiment",
    "import_modules",
    "list_experiments",
    "register",
]

#: entry-point group of modules that register experiments (name = experiment name)
ENTRY_POINT_GROUP = "fbinit.experiments"

#: marks a parameter without a default
REQUIRED = inspect.Parameter.empty

_REGISTRY: dict[str, Experiment] = {}


@dataclass(frozen=True)
class Experiment:
    """A registered experiment.

    Attributes
    ----------
    name : str
        Registered name (the ``experiment`` of a sweep file and of the store's rows).
    function : callable(**parameters, seed) -> mapping
        Runs one task; returns a JSON-able mapping (numpy arrays, numpy scalars and torch
        tensors are converted with ``tolist``).
    parameters : dict of str -> default
        Keyword parameters from the signature; :data:`REQUIRED` marks those without a
        default.
    validate : callable(dict) -> dict, optional
        Checks a task's full parameters (defaults filled in) before any task runs and
        returns them in canonical form (e.g. a default resolved to its value), raising
        :class:`fbinit.ParameterError` or ``TypeError`` naming the parameter.
    derive_seed : bool
        True: the function receives a seed derived from the task's configuration and its
        listed seed (:func:`fbinit.sweep.task_seed`). False: it receives the listed seed
        itself and derives per-cell seeds on its own from it and its parameters (as
        :func:`fbinit.analysis.scaling.draw_seeds` does), which keeps the numbers of the
        package's Monte Carlo functions.
    description : str
        First line of the function's docstring.
    """

    name: str
    function: Callable[..., Mapping[str, Any]]
    parameters: dict[str, Any]
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    derive_seed: bool = True
    description: str = field(default="", compare=False)

    def complete(self, params: Mapping[str, Any], *, where: str = "parameters") -> dict[str, Any]:
        """``params`` with the defaults filled in, checked and canonical.

        Raises
        ------
        ParameterError
            Naming an unknown or missing parameter, or from :attr:`validate`.
        """
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            raise ParameterError(
                f"{where}.{unknown[0]}={params[unknown[0]]!r} must be a parameter of "
                f"experiment {self.name!r} ({', '.join(self.parameters)})"
            )
        full = {
            name: params.get(name, default)
            for name, default in self.parameters.items()
            if name in params or default is not REQUIRED
        }
        missing = [name for name in self.parameters if name not in full]
        if missing:
            raise ParameterError(
                f"{where}.{missing[0]} must be given: experiment {self.name!r} has no default"
            )
        return dict(self.validate(full)) if self.validate is not None else full


def register(
    name: str,
    *,
    validate: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    derive_seed: bool = True,
) -> Callable[[Callable[..., Mapping[str, Any]]], Callable[..., Mapping[str, Any]]]:
    """Decorator registering an experiment function under ``name``.

    Parameters
    ----------
    name : str
        Non-empty name without spaces (dots group related experiments: ``bench.distill``).
    validate : callable(dict) -> dict, optional
        See :class:`Experiment`.
    derive_seed : bool, default True
        See :class:`Experiment`.

    Returns
    -------
    callable
        The decorator; it returns the function unchanged.

    Raises
    ------
    ParameterError
        If ``name`` is already registered for another function, or the function's
        signature has no keyword ``seed`` or has ``*args``/``**kwargs``.

    Examples
    --------
    >>> @register("doc.square")
    ... def square(*, x: float, seed: int) -> dict:
    ...     return {"y": x * x}
    >>> get_experiment("doc.square").parameters
    {'x': <class 'inspect._empty'>}
    """
    if not isinstance(name, str) or not name or any(c.isspace() for c in name):
        raise ParameterError(f"name={name!r} must be a non-empty string without spaces")

    def decorator(function: Callable[..., Mapping[str, Any]]) -> Callable[..., Mapping[str, Any]]:
        if not callable(function):
            raise TypeError(f"function={function!r} must be callable")
        params = inspect.signature(function).parameters
        variadic = [p.name for p in params.values() if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if "seed" not in params or variadic:
            raise ParameterError(
                f"experiment {name!r}: function {function.__qualname__} must take keyword "
                "parameters and a keyword 'seed' (no *args or **kwargs)"
            )
        experiment = Experiment(
            name=name,
            function=function,
            parameters={p.name: p.default for p in params.values() if p.name != "seed"},
            validate=validate,
            derive_seed=derive_seed,
            description=(inspect.getdoc(function) or "").split("\n", 1)[0],
        )
        old = _REGISTRY.get(name)
        if old is not None and _origin(old.function) != _origin(function):
            raise ParameterError(
                f"name={name!r} must be unique: it is registered for {_qualified(old.function)}"
            )
        _REGISTRY[name] = experiment
        return function

    return decorator


def _qualified(function: Callable[..., Any]) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def _origin(function: Callable[..., Any]) -> tuple[str, str]:
    """Source file and qualified name: the same function, even from a module imported twice
    under two names (a script run as ``__main__`` that imports itself, a test collector)."""
    code = getattr(function, "__code__", None)
    return (code.co_filename if code else _qualified(function), function.__qualname__)


def import_modules(modules: Iterable[str]) -> None:
    """Import modules that register experiments (the ``imports`` of a sweep file).

    Raises
    ------
    ParameterError
        Naming a module that cannot be imported.
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ParameterError(
                f"imports={module!r} must be an importable module ({exc})"
            ) from exc


def _entry_points() -> list[metadata.EntryPoint]:
    return list(metadata.entry_points(group=ENTRY_POINT_GROUP))


def get_experiment(name: str) -> Experiment:
    """The experiment registered under ``name``, loading its entry point if needed.

    Raises
    ------
    ParameterError
        If no module registers ``name``.

    Examples
    --------
    >>> get_experiment("scaling").parameters["stride"]
    1
    """
    if name not in _REGISTRY:
        for entry in _entry_points():
            if entry.name == name:
                entry.load()
    if name not in _REGISTRY:
        known = ", ".join(list_experiments()) or "none"
        raise ParameterError(
            f"experiment={name!r} must be a registered experiment ({known}); an experiment "
            "of your own needs its module in the sweep file's `imports`"
        )
    return _REGISTRY[name]


def list_experiments() -> list[str]:
    """Names of every registered experiment, entry points loaded, sorted.

    Examples
    --------
    >>> {"energy", "scaling"} <= set(list_experiments())
    True
    """
    for entry in _entry_points():
        if entry.name not in _REGISTRY:
            entry.load()
    return sorted(_REGISTRY)
