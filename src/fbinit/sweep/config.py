"""Sweep files: a TOML description of a grid over one experiment's parameters.

::

    experiment = "scaling"           # a registered experiment (fbinit.sweep.list_experiments)
    seeds = [0, 1, 2]                # default [0]; each configuration runs once per seed
    store = "scaling.sqlite"         # relative to this file; default <file stem>.sqlite
    imports = ["mylab.experiments"]  # modules that register experiments of your own

    [fixed]                           # parameters shared by every task
    n_draws = 200

    [grid]                            # axes: every combination is a configuration
    n_filters = [5, 10, 40]
    kernel_size = [8, 16, 32, 64]

``[[grid]]`` (an array of tables) gives a union of such products. Every key is checked
before any task runs; an error names the file and the key.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fbinit.errors import ParameterError
from fbinit.sweep.grid import Task, expand

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["SweepConfig", "load_config"]

_KEYS = ("experiment", "seeds", "store", "imports", "fixed", "grid")


@dataclass(frozen=True)
class SweepConfig:
    """A parsed and checked sweep file.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    experiment : str
    tasks : list of Task
        The expanded grid (validated by the experiment).
    store : pathlib.Path
        Results store (absolute, or relative to the working folder when the file's path is).
    """

    path: Path
    experiment: str
    tasks: list[Task]
    store: Path


def load_config(path: str | os.PathLike) -> SweepConfig:
    """Read, check and expand a sweep file.

    Parameters
    ----------
    path : str or os.PathLike
        A TOML file in the format of this module's docstring.

    Returns
    -------
    SweepConfig

    Raises
    ------
    ParameterError
        ``<file>: <key>=<value> must be <rule>``, for a missing or unreadable file, a TOML
        syntax error (with its line), an unknown key, a value of the wrong kind, or a
        parameter the experiment refuses.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d) / "grid.toml"
    ...     _ = f.write_text('experiment = "scaling"\\n[fixed]\\nn_draws = 10\\n'
    ...                      '[grid]\\nn_filters = [5, 10]\\nkernel_size = [8, 16]\\n')
    ...     cfg = load_config(f)
    ...     len(cfg.tasks), cfg.store.name
    (4, 'grid.sqlite')
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path={path!r} must be a path to a TOML file")
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"config='{path}' must be an existing TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"config='{path}' must be a readable TOML file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path}: must be valid TOML ({exc})") from None
    try:
        return _parse(path, data)
    except (ParameterError, TypeError) as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _parse(path: Path, data: Mapping[str, Any]) -> SweepConfig:
    for key in data:
        if key not in _KEYS:
            raise ParameterError(f"{key}={data[key]!r} must be one of the keys {', '.join(_KEYS)}")
    experiment = data.get("experiment")
    if not isinstance(experiment, str) or not experiment:
        raise ParameterError(f"experiment={experiment!r} must be the name of an experiment")
    imports = data.get("imports", [])
    if not isinstance(imports, list) or not all(isinstance(m, str) and m for m in imports):
        raise ParameterError(f"imports={imports!r} must be a list of module names")
    store = data.get("store", f"{path.stem}.sqlite")
    if not isinstance(store, str) or not store:
        raise ParameterError(f"store={store!r} must be a file path")
    fixed = data.get("fixed", {})
    if not isinstance(fixed, Mapping):
        raise ParameterError(f"fixed={fixed!r} must be a table of parameters")
    grid = data.get("grid", {})
    if not isinstance(grid, (Mapping, list)):
        raise ParameterError(f"grid={grid!r} must be a table of axes or an array of tables")
    tasks = expand(experiment, grid, fixed, data.get("seeds", [0]), imports=imports)
    return SweepConfig(path, experiment, tasks, path.parent / Path(store).expanduser())
