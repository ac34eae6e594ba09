"""Sweep files: parsed, expanded and checked before any task runs; errors name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fbinit.errors import ParameterError
from fbinit.sweep import expand, load_config

GOOD = """
experiment = "scaling"
seeds = [0, 1]
store = "out/grid.sqlite"

[fixed]
n_draws = 10

[grid]
n_filters = [5, 10]
kernel_size = [8, 16, 32]
"""


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_config_expands_the_grid(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.experiment == "scaling" and len(cfg.tasks) == 2 * 3 * 2
    assert cfg.store == tmp_path / "out" / "grid.sqlite"  # relative to the file
    expected = expand(
        "scaling", {"n_filters": [5, 10], "kernel_size": [8, 16, 32]}, {"n_draws": 10}, [0, 1]
    )
    assert [t.key for t in cfg.tasks] == [t.key for t in expected]


def test_defaults_and_array_of_grids(tmp_path):
    text = """
experiment = "toy.draws"
imports = ["sweep_toys"]
[[grid]]
n = [2, 3]
[[grid]]
n = [4]
scale = [0.5, 2.0]
"""
    cfg = load_config(write(tmp_path, text, "toys.toml"))
    assert cfg.store == tmp_path / "toys.sqlite"
    assert {t.seed for t in cfg.tasks} == {0}
    assert sorted((t.params["n"], t.params["scale"]) for t in cfg.tasks) == [
        (2, 1.0),
        (3, 1.0),
        (4, 0.5),
        (4, 2.0),
    ]
    assert all(t.imports == ("sweep_toys",) for t in cfg.tasks)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (GOOD.replace("[grid]", "[grdi]"), r"grdi=.* must be one of the keys experiment"),
        (GOOD.replace('experiment = "scaling"', ""), "experiment=None must be the name"),
        (GOOD.replace('"scaling"', '"nope"'), "experiment='nope' must be a registered"),
        (GOOD.replace("seeds = [0, 1]", "seeds = [0, 0]"), "distinct integers"),
        (GOOD.replace("seeds = [0, 1]", 'seeds = "all"'), "seeds='all' must be a list"),
        (GOOD.replace('"out/grid.sqlite"', "3"), "store=3 must be a file path"),
        (GOOD + 'imports = "x"\n', "grid.imports='x' must be a parameter"),  # in [grid]
        ('imports = "x"\n' + GOOD, "imports='x' must be a list of module names"),
        (GOOD.replace("n_filters = [5, 10]", "n_filters = [5, 0]"), "n_filters=0 must be"),
        (GOOD.replace("n_filters = [5, 10]", "n_filter = [5, 10]"), "grid.n_filter="),
        (GOOD.replace("n_draws = 10", "n_draws = 1.5"), "n_draws=1.5 must be an integer"),
        (GOOD.replace("kernel_size = [8, 16, 32]", "kernel_size = 8"), "must be a list"),
        (GOOD.replace("[fixed]\nn_draws = 10", "fixed = 3"), "fixed=3 must be a table"),
        (GOOD.replace("seeds = [0, 1]", "seeds = [0, 1"), "must be valid TOML"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path, text, match):
    path = write(tmp_path, text)
    with pytest.raises((ParameterError, TypeError), match=match) as info:
        load_config(path)
    assert str(info.value).startswith(str(path))


def test_missing_or_unreadable_file(tmp_path):
    with pytest.raises(ParameterError, match="must be an existing TOML file"):
        load_config(tmp_path / "missing.toml")
    with pytest.raises(ParameterError, match="must be a readable TOML file"):
        load_config(tmp_path)  # a folder
    with pytest.raises(TypeError, match="must be a path"):
        load_config(3)
