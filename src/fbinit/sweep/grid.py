r"""Grids of configurations expanded into tasks, each with its own stable key and seed.

A task is one experiment run on one configuration (its full parameters, defaults filled
in) with one listed seed. Its identity does not depend on the order of the grid or on the
executor:

.. math:: h = \mathrm{SHA256}(\mathrm{canonical}(\{\text{experiment}, \text{params}\})),
          \qquad s = \lfloor \mathrm{SHA256}(\mathrm{canonical}(\{\text{experiment},
          \text{params}, \text{seed}\})) / 2^{193} \rfloor

where canonical() is JSON with sorted keys, no spaces and floats written by ``repr`` (the
shortest text that reads back to the same double), so equal configurations hash equally
whatever the order of their keys. The store keys rows by (experiment, h, seed); ``s``
(63 bits) is the seed an experiment receives when it derives its seed from its
configuration.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fbinit._validate import check_int
from fbinit.errors import ParameterError
from fbinit.sweep.registry import Experiment, get_experiment, import_modules

__all__ = ["Task", "canonical_json", "config_hash", "expand", "make_task", "task_seed"]


def canonical_json(value: Any) -> str:
    """Canonical JSON text of a configuration: sorted keys, no spaces, finite numbers.

    Raises
    ------
    ParameterError
        If the value holds NaN or infinity or something JSON cannot hold.

    Examples
    --------
    >>> canonical_json({"b": [1, 2.5], "a": "x"})
    '{"a":"x","b":[1,2.5]}'
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False
        )
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"configuration={value!r:.200} must hold only JSON values: strings, finite numbers, "
            f"booleans, lists and tables ({exc})"
        ) from exc


def _sha256(experiment: str, params: Mapping[str, Any], *extra: Any) -> bytes:
    text = canonical_json([experiment, dict(params), *extra])
    return hashlib.sha256(text.encode("utf-8")).digest()


def config_hash(experiment: str, params: Mapping[str, Any]) -> str:
    """Hex SHA-256 of the canonical (experiment, parameters): the row key with the seed.

    Examples
    --------
    >>> config_hash("scaling", {"n_filters": 5, "kernel_size": 8}) == config_hash(
    ...     "scaling", {"kernel_size": 8, "n_filters": 5})
    True
    """
    return _sha256(experiment, params).hex()


def task_seed(experiment: str, params: Mapping[str, Any], seed: int) -> int:
    """Seed of a task derived from its configuration and listed seed (63 bits, >= 0).

    Examples
    --------
    >>> task_seed("toy", {"x": 1}, 0) == task_seed("toy", {"x": 1}, 0)
    True
    >>> task_seed("toy", {"x": 1}, 0) != task_seed("toy", {"x": 1}, 1)
    True
    """
    return int.from_bytes(_sha256(experiment, params, int(seed))[:8], "big") >> 1


@dataclass(frozen=True)
class Task:
    """One experiment on one configuration with one listed seed.

    Attributes
    ----------
    experiment : str
    params : dict
        Full, canonical parameters (defaults filled in, validated).
    seed : int
        The listed seed (the store's key with ``config_hash``).
    config_hash : str
        :func:`config_hash` of (experiment, params).
    run_seed : int
        What the experiment function receives as ``seed``: :func:`task_seed` when the
        experiment derives its seed, else ``seed``.
    imports : tuple of str
        Modules to import before looking the experiment up (in the worker too).
    """

    experiment: str
    params: dict[str, Any]
    seed: int
    config_hash: str
    run_seed: int
    imports: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, int]:
        """(experiment, config_hash, seed): the store's unique key."""
        return (self.experiment, self.config_hash, self.seed)

    @property
    def label(self) -> str:
        """Short readable name: ``experiment[hash8]/seed``."""
        return f"{self.experiment}[{self.config_hash[:8]}]/{self.seed}"


def make_task(
    experiment: str, params: Mapping[str, Any], seed: int = 0, *, imports: Sequence[str] = ()
) -> Task:
    """A validated task of a registered experiment.

    Parameters
    ----------
    experiment : str
        Registered name (:func:`fbinit.sweep.register`).
    params : mapping
        Parameters; missing ones take the function's defaults.
    seed : int >= 0
    imports : sequence of str
        Modules that register the experiment (imported here and in the workers).

    Examples
    --------
    >>> t = make_task("scaling", {"n_filters": 5, "kernel_size": 8, "n_draws": 10})
    >>> t.params["n_fft"], t.run_seed  # n_fft resolved; scaling draws from the listed seed
    (1024, 0)
    """
    seed = check_int("seed", seed, minimum=0)
    imports = tuple(imports)
    import_modules(imports)
    exp = get_experiment(experiment)
    return _tasks(exp, params, [seed], imports)[0]


def _tasks(exp: Experiment, params: Mapping[str, Any], seeds: list[int], imports) -> list[Task]:
    """The tasks of one configuration, one per seed (parameters completed and checked)."""
    full = exp.complete(params)
    digest = config_hash(exp.name, full)  # refuses NaN or non-JSON values, naming them
    return [
        Task(
            exp.name,
            full,
            seed,
            digest,
            task_seed(exp.name, full, seed) if exp.derive_seed else seed,
            imports,
        )
        for seed in seeds
    ]


def _axis(name: str, values: Any) -> list[Any]:
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Sequence):
        raise ParameterError(f"grid.{name}={values!r} must be a list of values")
    if not values:
        raise ParameterError(f"grid.{name}=[] must hold at least one value")
    texts = [canonical_json(v) for v in values]
    if len(set(texts)) != len(texts):
        raise ParameterError(f"grid.{name}={list(values)!r} must not repeat a value")
    return list(values)


def expand(
    experiment: str,
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Sequence[Any]]] = (),
    fixed: Mapping[str, Any] | None = None,
    seeds: Iterable[int] = (0,),
    *,
    imports: Sequence[str] = (),
) -> list[Task]:
    """Tasks of every combination of the grid's values with the fixed parameters and seeds.

    Parameters
    ----------
    experiment : str
        Registered name.
    grid : mapping of str -> list, or a list of such mappings
        Axes; every combination (Cartesian product, first axis outermost) is a
        configuration. A list of grids is their union.
    fixed : mapping of str -> value, optional
        Parameters shared by every configuration (must not also be an axis).
    seeds : iterable of int >= 0, distinct
        Listed seeds; each configuration runs once per seed (innermost).
    imports : sequence of str
        Modules that register the experiment.

    Returns
    -------
    list of Task
        Distinct tasks (configurations that coincide once canonical appear once), in grid
        order; the order changes no task's key or seed.

    Raises
    ------
    ParameterError
        Naming the key: an empty or repeated axis, a parameter both fixed and an axis, an
        unknown or missing parameter, a value the experiment refuses, bad seeds.

    Examples
    --------
    >>> tasks = expand("scaling", {"n_filters": [5, 10], "kernel_size": [8]},
    ...                {"n_draws": 20}, seeds=[0, 1])
    >>> [(t.params["n_filters"], t.seed) for t in tasks]
    [(5, 0), (5, 1), (10, 0), (10, 1)]
    """
    fixed = dict(fixed or {})
    grids = [grid] if isinstance(grid, Mapping) else list(grid)
    if not grids:
        grids = [{}]
    seeds = _seeds(seeds)
    imports = tuple(imports)
    import_modules(imports)
    exp = get_experiment(experiment)
    for section, keys in [("fixed", fixed)] + [("grid", g) for g in grids]:
        if not isinstance(keys, Mapping):
            raise ParameterError(f"{section}={keys!r} must be a table of parameters")
        for key in keys:
            if key == "seed":
                raise ParameterError(f"{section}.seed is reserved: list the seeds in `seeds`")
            if key not in exp.parameters:
                raise ParameterError(
                    f"{section}.{key}={keys[key]!r} must be a parameter of experiment "
                    f"{experiment!r} ({', '.join(exp.parameters)})"
                )
    tasks: dict[tuple[str, str, int], Task] = {}
    for g in grids:
        both = sorted(set(g) & set(fixed))
        if both:
            raise ParameterError(f"grid.{both[0]} must not also be in fixed")
        axes = {name: _axis(name, values) for name, values in g.items()}
        for combo in itertools.product(*axes.values()):
            params = {**fixed, **dict(zip(axes, combo, strict=True))}
            for task in _tasks(exp, params, seeds, imports):
                tasks.setdefault(task.key, task)
    return list(tasks.values())


def _seeds(seeds: Any) -> list[int]:
    if isinstance(seeds, (str, bytes, Mapping)) or not isinstance(seeds, Iterable):
        raise ParameterError(f"seeds={seeds!r} must be a list of integers >= 0")
    out = []
    for s in seeds:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0:
            raise ParameterError(f"seeds={seeds!r} must be a list of integers >= 0")
        out.append(int(s))
    if not out or len(set(out)) != len(out):
        raise ParameterError(f"seeds={out!r} must be a non-empty list of distinct integers")
    return out
