"""Grids expand into tasks whose keys and seeds depend on their configuration only."""

from __future__ import annotations

import hashlib
import json

import pytest

from fbinit.errors import ParameterError
from fbinit.sweep import (
    canonical_json,
    config_hash,
    expand,
    get_experiment,
    list_experiments,
    make_task,
    register,
    task_seed,
)
from fbinit.sweep.registry import REQUIRED

SCALING = {"n_filters": [5, 10], "kernel_size": [8, 16]}


def test_canonical_json_sorts_keys_and_refuses_nan():
    assert canonical_json({"b": 1.5, "a": [1, "x"]}) == '{"a":[1,"x"],"b":1.5}'
    assert canonical_json({"x": 0.1}) == '{"x":0.1}'  # repr: the shortest exact text
    with pytest.raises(ParameterError, match="finite numbers"):
        canonical_json({"x": float("nan")})
    with pytest.raises(ParameterError, match="JSON values"):
        canonical_json({"x": {1, 2}})


def test_config_hash_and_task_seed_follow_their_documented_formulas():
    params = {"b": 2, "a": 0.5}
    text = '["toy",{"a":0.5,"b":2}]'
    assert config_hash("toy", params) == hashlib.sha256(text.encode()).hexdigest()
    digest = hashlib.sha256(b'["toy",{"a":0.5,"b":2},7]').digest()
    assert task_seed("toy", params, 7) == int.from_bytes(digest[:8], "big") >> 1
    assert 0 <= task_seed("toy", params, 7) < 2**63


def test_expand_is_the_product_with_seeds_innermost():
    tasks = expand("scaling", SCALING, {"n_draws": 10}, seeds=[3, 1])
    assert [(t.params["n_filters"], t.params["kernel_size"], t.seed) for t in tasks] == [
        (5, 8, 3),
        (5, 8, 1),
        (5, 16, 3),
        (5, 16, 1),
        (10, 8, 3),
        (10, 8, 1),
        (10, 16, 3),
        (10, 16, 1),
    ]
    assert len({t.key for t in tasks}) == 8
    assert len({t.config_hash for t in tasks}) == 4


def test_keys_and_seeds_do_not_depend_on_grid_order():
    forward = expand("toy.draws", {"n": [2, 3, 4], "scale": [1.0, 2.0]}, seeds=[0, 1])
    backward = expand("toy.draws", {"scale": [2.0, 1.0], "n": [4, 3, 2]}, seeds=[1, 0])
    assert {(t.key, t.run_seed) for t in forward} == {(t.key, t.run_seed) for t in backward}
    assert [t.key for t in forward] != [t.key for t in backward]


def test_derived_and_listed_seeds():
    toy = make_task("toy.draws", {"n": 3}, seed=2)
    assert toy.run_seed == task_seed("toy.draws", toy.params, 2) != 2
    # the scaling cell keeps its own per-cell seeding: it receives the listed seed
    assert make_task("scaling", {"n_filters": 5, "kernel_size": 8}, seed=2).run_seed == 2


def test_defaults_are_filled_and_canonical_configurations_coincide():
    implicit = make_task("scaling", {"n_filters": 5, "kernel_size": 8})
    explicit = make_task(
        "scaling",
        {"n_filters": 5, "kernel_size": 8, "n_fft": 1024, "stride": 1, "n_draws": 200},
    )
    assert implicit.params == explicit.params and implicit.key == explicit.key
    assert implicit.params["quantiles"] == [0.05, 0.25, 0.5, 0.75, 0.95]
    # two axis values that resolve to the same configuration make one task
    tasks = expand("scaling", {"n_fft": [None, 1024]}, {"n_filters": 5, "kernel_size": 8})
    assert len(tasks) == 1


def test_a_list_of_grids_is_their_union():
    tasks = expand(
        "toy.draws",
        [{"n": [2, 3]}, {"n": [3, 4], "scale": [1.0]}],
        {"fail": False},
    )
    assert sorted(t.params["n"] for t in tasks) == [2, 3, 4]


@pytest.mark.parametrize(
    ("grid", "fixed", "seeds", "match"),
    [
        ({"n_filter": [5]}, {}, [0], r"grid.n_filter=\[5\] must be a parameter of experiment"),
        ({}, {"kernelsize": 8}, [0], "fixed.kernelsize=8 must be a parameter"),
        ({"seed": [0, 1]}, {}, [0], "grid.seed is reserved"),
        ({"n_filters": []}, {"kernel_size": 8}, [0], r"grid.n_filters=\[\] must hold"),
        ({"n_filters": [5, 5]}, {"kernel_size": 8}, [0], "must not repeat a value"),
        ({"n_filters": 5}, {"kernel_size": 8}, [0], "grid.n_filters=5 must be a list"),
        ({"n_filters": [5]}, {"n_filters": 5, "kernel_size": 8}, [0], "must not also be in"),
        ({"n_filters": [5]}, {}, [0], "kernel_size must be given"),
        ({"n_filters": [0]}, {"kernel_size": 8}, [0], "n_filters=0 must be an integer >= 1"),
        ({"n_filters": [5]}, {"kernel_size": 8}, [-1], "seeds=.* must be a list of integers"),
        ({"n_filters": [5]}, {"kernel_size": 8}, [1, 1], "distinct integers"),
        ({"n_filters": [5]}, {"kernel_size": 8}, [], "non-empty list"),
        ({"n_filters": [5]}, {"kernel_size": 8}, [True], "must be a list of integers"),
        ({"n_filters": [5]}, {"kernel_size": 8}, "0", "must be a list of integers"),
        ({}, {"n_filters": 5, "kernel_size": 2048, "n_fft": 1024}, [0], "must be <= n_fft=1024"),
        ({}, {"n_filters": 5, "kernel_size": 8, "n_fft": 100, "stride": 3}, [0], "divide"),
    ],
)
def test_expand_errors_name_the_key(grid, fixed, seeds, match):
    with pytest.raises((ParameterError, TypeError), match=match):
        expand("scaling", grid, fixed, seeds)


def test_unknown_experiment_and_imports():
    with pytest.raises(ParameterError, match="experiment='nope' must be a registered"):
        expand("nope", {})
    with pytest.raises(ParameterError, match="imports='no_such_module' must be an importable"):
        expand("toy.draws", {}, imports=["no_such_module"])


def test_registry_lists_and_describes_experiments():
    assert {"energy", "scaling", "toy.draws"} <= set(list_experiments())
    exp = get_experiment("toy.draws")
    assert exp.parameters == {
        "n": 8,
        "scale": 1.0,
        "fail": False,
        "fail_while": "",
    }
    assert get_experiment("toy.returns").parameters == {"kind": REQUIRED}
    assert exp.description.startswith("Normal draws")


def test_register_errors():
    def no_seed(*, x):
        return {}

    def variadic(*, seed, **kwargs):
        return {}

    def other(*, seed):
        return {}

    with pytest.raises(ParameterError, match="keyword 'seed'"):
        register("t.no_seed")(no_seed)
    with pytest.raises(ParameterError, match=r"no \*args or \*\*kwargs"):
        register("t.variadic")(variadic)
    with pytest.raises(ParameterError, match="name='toy.draws' must be unique"):
        register("toy.draws")(other)
    with pytest.raises(ParameterError, match="without spaces"):
        register("two words")
    with pytest.raises(TypeError, match="must be callable"):
        register("t.not_callable")(42)


def test_tasks_are_json_round_trippable():
    task = make_task("energy", {"signal": [0.5, -1, 2], "n_filters": 3, "kernel_size": 2})
    assert task.params["signal"] == [0.5, -1.0, 2.0]
    assert json.loads(canonical_json(task.params)) == task.params


def test_a_module_imported_under_two_names_registers_once(tmp_path):
    import importlib.util

    import sweep_toys

    spec = importlib.util.spec_from_file_location("toys_again", sweep_toys.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # registers toy.draws again: the same function
    assert get_experiment("toy.draws").function.__module__ == "toys_again"
