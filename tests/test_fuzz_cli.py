"""Property-based fuzzing of every ``fbinit`` command, in process through ``fbinit.cli.main``.

Options get plausible values, edge values (0, -1, huge sizes, nan, empty strings, paths
that cannot be written) and junk. Every run must end with exit status 0, or 2 with one
line on stderr (``error: ...``), or argparse's own usage error (exit 2): never a traceback,
never another exception. Valid runs are kept small (a short clip, a few draws); what is
too large for memory must be refused before any work (exit 2), not crash.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from pathlib import Path

import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fbinit.cli import COMMANDS, build_parser, main
from fbinit.signals import sine

EXAMPLES = int(os.environ.get("FBINIT_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=max(6, EXAMPLES // 2),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)

INT = st.sampled_from(
    ["-1", "0", "1", "2", "3", "8", "16", "33", "64", "1000000000000", "x", "1.5", "", "nan"]
)
DRAWS = st.sampled_from(["1", "2", "0", "-3", "1000000000000", "many"])
FLOAT = st.sampled_from(["0", "-1", "0.5", "8000", "1e300", "nan", "inf", "x", ""])
SEED = st.sampled_from(["0", "1", "-1", "18446744073709551616", "x"])
#: output targets: {dir} is a fresh folder, {file} a file in it, {busy} a folder with a file
TARGET = st.sampled_from(
    [
        "{dir}/out",
        "{dir}/new/deep/out",
        "",
        "{file}",
        "{file}/under",
        "{busy}",
        "/sys/fbinit",
        "{dir}",
    ]
)

OPTIONS = {
    "analyze": {
        "--n-filters": INT,
        "--kernel-size": INT,
        "--stride": INT,
        "--n-fft": INT,
        "--mode": st.sampled_from(["circular", "full", "valid"]),
        "--draws": DRAWS,
        "--seed": SEED,
        "--json": TARGET.map(lambda t: t + ".json" if t.endswith("out") else t),
    },
    "scaling": {
        "--n-filters": INT,
        "--kernel-size": INT,
        "--n-fft": INT,
        "--stride": INT,
        "--draws": DRAWS,
        "--seed": SEED,
        "--csv": TARGET.map(lambda t: t + ".csv" if t.endswith("out") else t),
    },
    "report": {
        "--out": TARGET,
        "--bank": st.sampled_from(
            ["gaussian", "mel", "gammatone", "wavelet", "gabor", "sinc", "torch", "cqt"]
        ),
        "--n-filters": INT,
        "--kernel-size": INT,
        "--stride": INT,
        "--sigma": FLOAT,
        "--sample-rate": INT,
        "--fmin": FLOAT,
        "--fmax": FLOAT,
        "--draws": DRAWS,
        "--seed": SEED,
    },
    # figures and theory do minutes of work when valid: only invalid runs are drawn
    "figures": {"--out": TARGET, "--draws": st.sampled_from(["0", "-1", "1000000000000", "x"])},
    "theory": {"--out": st.sampled_from(["", "{file}", "{file}/under", "/sys/fbinit"])},
    # the cheap registered frontends only (the table of all of them takes a minute)
    "frontends": {
        "--only": st.sampled_from(["stft", "sinc", "nope", "multires", ""]),
        "--p": FLOAT,
        "--n-fft": INT,
        "--json": TARGET.map(lambda t: t + ".json" if t.endswith("out") else t),
    },
    "sweep": {
        "--store": TARGET.map(lambda t: t + ".sqlite" if t.endswith("out") else t),
        "--workers": st.sampled_from(["1", "0", "-2", "x"]),
        "--dry-run": st.just(None),
        "--retry-failed": st.just(None),
        "--progress-every": FLOAT,
    },
    "results": {
        "--experiment": st.sampled_from(["scaling", "nope", ""]),
        "--status": st.sampled_from(["done", "failed", "x"]),
        "--where": st.sampled_from(["n_filters=4", "x", "=", "kernel_size=zz"]),
        "--csv": TARGET.map(lambda t: t + ".csv" if t.endswith("out") else t),
        "--limit": INT,
    },
    # bench does minutes of work when valid: only output targets that cannot be written
    "bench": {
        "--out": st.sampled_from(["", "{file}", "{file}/under", "/sys/fbinit"]),
        "--mode": st.sampled_from(["tiny", "quick", "full", "fast"]),
        "--tasks": st.sampled_from(["distill", "nope", "", ",", "classify,throughput"]),
        "--store": TARGET.map(lambda t: t + ".sqlite" if t.endswith("out") else t),
        "--workers": st.sampled_from(["1", "0", "-2", "x"]),
        "--report-only": st.just(None),
    },
}
POSITIONAL = {
    "analyze": st.lists(
        st.sampled_from(["{clip}", "{clip}", "{missing}", "{garbage}"]), max_size=2
    ),
    "report": st.lists(
        st.sampled_from(["{clip}", "{missing}", "{garbage}"]), min_size=1, max_size=2
    ),
    "theory": st.sampled_from([["du2018"], ["nope"]]),
    "frontends": st.lists(st.sampled_from(["{clip}", "{missing}", "{garbage}"]), max_size=1),
    "sweep": st.sampled_from(
        [["{sweep}"], ["{badsweep}"], ["{missing}"], ["{garbage}"], ["{file}"], [""]]
    ),
    "results": st.sampled_from([["{store}"], ["{garbage}"], ["{missing}"], ["{file}"], [""]]),
}


def run(argv: list[str]) -> tuple[int, str]:
    """Exit status and stderr of ``fbinit argv`` run in this process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse: usage errors (2) and --help (0)
            status = exc.code
    return status, err.getvalue()


def _workspace(tmp: Path) -> dict[str, str]:
    (tmp / "afile").write_text("x")
    (tmp / "busy").mkdir()
    (tmp / "busy" / "mine.txt").write_text("mine")
    soundfile.write(tmp / "clip.wav", sine(400, frequency=440.0, sample_rate=8000.0), 8000)
    (tmp / "garbage.wav").write_bytes(b"RIFF junk" * 10)
    store = tmp / "store.sqlite"
    (tmp / "sweep.toml").write_text(
        f'experiment = "scaling"\nseeds = [0]\nstore = "{store}"\n'
        "[fixed]\nn_draws = 3\nn_fft = 64\n[grid]\nn_filters = [4]\nkernel_size = [8, 16]\n"
    )
    (tmp / "bad.toml").write_text('experiment = "nope"\n[grid]\nx = [1,\n')
    assert main(["sweep", str(tmp / "sweep.toml"), "--workers", "1"]) == 0
    return {
        "sweep": str(tmp / "sweep.toml"),
        "badsweep": str(tmp / "bad.toml"),
        "store": str(store),
        "dir": str(tmp),
        "file": str(tmp / "afile"),
        "busy": str(tmp / "busy"),
        "clip": str(tmp / "clip.wav"),
        "missing": str(tmp / "missing.wav"),
        "garbage": str(tmp / "garbage.wav"),
    }


@st.composite
def command_lines(draw, command: str) -> list[str]:
    argv = [command, *draw(POSITIONAL.get(command, st.just([])))]
    for option, values in OPTIONS[command].items():
        required = option == "--out"
        if required or draw(st.booleans()):
            value = draw(values)
            argv += [option] if value is None else [option, value]  # None: a flag
    return argv


def test_every_command_has_a_fuzzing_strategy():
    assert set(COMMANDS) <= set(OPTIONS), "fuzz the new commands"


@FUZZ
@given(data=st.data(), command=st.sampled_from(sorted(OPTIONS)))
def test_commands_exit_cleanly(data, command):
    argv = data.draw(command_lines(command), label="argv")
    with tempfile.TemporaryDirectory() as tmp:
        where = _workspace(Path(tmp))
        argv = [a.format(**where) for a in argv]
        status, err = run(argv)
    assert status in (0, 2), (argv, status, err)
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    if status == 2 and lines and lines[0].startswith("error:"):
        assert len(lines) == 1, err  # our errors: one line


@settings(max_examples=max(6, EXAMPLES // 2), deadline=None, derandomize=True)
@given(
    junk=st.lists(
        st.sampled_from(["--bogus", "-Z", "1", "--draws", "x", "--"]), min_size=1, max_size=4
    )
)
def test_every_registered_command_rejects_unknown_options(junk):
    """Commands added by others are at least parsed safely: unknown options exit 2."""
    for command in COMMANDS:
        status, err = run([command, "--fbinit-unknown-option", *junk])
        assert status == 2 and "Traceback" not in err


def test_help_of_every_command_exits_zero():
    for command in COMMANDS:
        status, _ = run([command, "--help"])
        assert status == 0
    assert build_parser().parse_args(["analyze"]).command == "analyze"
