"""The condition-number report: bank specifications, the numbers, the files and atomic writes."""

from __future__ import annotations

import dataclasses
import math
import re
import signal
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import scipy.stats
import torch

import fbinit
import fbinit._io
import fbinit.report.html as report_html
from fbinit import Filterbank, ParameterError, as_filterbank
from fbinit._io import read_manifest
from fbinit.analysis import condition_number, energy_response, frame_bounds
from fbinit.analysis.scaling import condition_number_stats, draw_seeds
from fbinit.banks import gaussian
from fbinit.banks.gabor import gabor
from fbinit.banks.gammatone import gammatone
from fbinit.banks.mel import mel
from fbinit.banks.sinc import sinc
from fbinit.banks.wavelet import wavelet
from fbinit.report.bank_spec import BankSpec, load_conv1d_bank, resolve_bank
from fbinit.report.condition_report import build_report, fmt, write_report
from fbinit.report.html import markdown_escape
from fbinit.signals import impulse, sine

J, T, N_CLIP, DRAWS = 10, 64, 256, 40


@pytest.fixture(scope="module")
def clips():
    return {"impulse": (impulse(N_CLIP), 8000), "sine": (sine(N_CLIP, periods=24), 8000)}


@pytest.fixture(scope="module")
def random_report(clips):
    spec = BankSpec("gaussian", {"n_filters": J, "kernel_size": T})
    return build_report(spec, clips, n_draws=DRAWS, seed=3)


@pytest.fixture(scope="module")
def gabor_bank():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # truncated low-frequency envelopes
        return gabor(20, 129, sample_rate=8000, fmin=60.0, fmax=3900.0, n_fft=256)


@pytest.fixture(scope="module")
def fixed_report(clips, gabor_bank):
    return build_report(gabor_bank, clips, n_draws=DRAWS, seed=0)


# ------------------------------------------------------------------------- bank specs


def test_gaussian_spec_is_the_seeded_draw():
    spec = BankSpec("gaussian", {"n_filters": 6, "kernel_size": 16, "seed": 7, "sigma": None})
    assert spec.is_random and spec.params == {"n_filters": 6, "kernel_size": 16, "seed": 7}
    bank = spec.resolve()
    assert torch.equal(bank.weights, gaussian(6, 16, seed=7).weights)
    assert spec.resolve(n_draws=3).weights.shape == (3, 6, 16)
    assert spec.label() == "gaussian(n_filters=6, kernel_size=16, seed=7)"


def test_gaussian_spec_band_and_sample_rate():
    bank = resolve_bank("gaussian", n_filters=4, kernel_size=8, sample_rate=16000, fmin=100)
    assert bank.sample_rate == 16000.0 and bank.band == (100.0, 8000.0)
    with pytest.raises(ParameterError, match="fmin and fmax need a sample_rate"):
        resolve_bank("gaussian", n_filters=4, kernel_size=8, fmax=100)


FIXED = [
    ("mel", mel, {"fmin": 60.0, "fmax": 7800.0}),
    ("gammatone", gammatone, {"fmin": 100.0}),
    ("wavelet", wavelet, {"fmin": 200.0, "bins_per_octave": 4}),
    ("gabor", gabor, {"fmin": 60.0, "fmax": 7800.0}),
    ("sinc", sinc, {"fmin": 30.0}),
]


@pytest.mark.parametrize(("kind", "constructor", "extra"), FIXED, ids=[f[0] for f in FIXED])
def test_fixed_specs_call_the_constructors(kind, constructor, extra):
    params = {"n_filters": 8, "kernel_size": 129, "sample_rate": 16000, **extra}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        got = resolve_bank(kind, **params, stride=None)
        want = constructor(**params)
    assert torch.equal(got.weights, want.weights)
    assert got.band == want.band and got.sample_rate == 16000.0
    assert not BankSpec(kind, params).is_random


def test_spec_errors(tmp_path):
    with pytest.raises(ParameterError, match="kind='cqt' must be one of"):
        BankSpec("cqt", {})
    with pytest.raises(ParameterError, match="sigma=0.1 must not be given for bank 'mel'"):
        BankSpec("mel", {"n_filters": 4, "kernel_size": 8, "sample_rate": 8000, "sigma": 0.1})
    with pytest.raises(ParameterError, match="sample_rate must be given for bank 'mel'"):
        BankSpec("mel", {"n_filters": 4, "kernel_size": 8})
    with pytest.raises(ParameterError, match="kernel_size must be given for bank 'gaussian'"):
        BankSpec("gaussian", {"n_filters": 4})
    with pytest.raises(ParameterError, match="weights must be given for bank 'torch'"):
        BankSpec("torch", {})
    with pytest.raises(TypeError, match="params must be a mapping"):
        BankSpec("gaussian", [("n_filters", 4)])
    spec = BankSpec("mel", {"n_filters": 4, "kernel_size": 8, "sample_rate": 8000})
    with pytest.raises(ParameterError, match="n_draws=5 must be None for the fixed bank 'mel'"):
        spec.resolve(n_draws=5)


# ----------------------------------------------------------------------- torch files


def _conv(out_channels, kernel_size, stride=1, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Conv1d(1, out_channels, kernel_size, stride=stride, bias=False)


def test_torch_state_dict(tmp_path):
    conv = _conv(8, 32, stride=4)
    path = tmp_path / "frontend.pt"
    torch.save(conv.state_dict(), path)
    bank = resolve_bank("torch", weights=str(path), sample_rate=16000, fmin=50, fmax=7000)
    assert torch.equal(bank.weights, conv.weight.detach()[:, 0, :].double())
    assert bank.stride == 1  # a state dict does not record the stride
    assert bank.band == (50.0, 7000.0) and bank.name == "frontend.pt:weight"
    # same frame bounds as the Conv1d read directly
    a, b = frame_bounds(bank.with_stride(4), n_fft=256)
    a2, b2 = frame_bounds(as_filterbank(conv), n_fft=256)
    assert torch.allclose(a, a2, rtol=1e-12) and torch.allclose(b, b2, rtol=1e-12)


def test_torch_module_nested_checkpoint_and_keys(tmp_path):
    first, second = _conv(8, 32, stride=4, seed=1), _conv(6, 16, seed=2)
    model = torch.nn.ModuleDict({"encoder": first, "mix": torch.nn.Conv1d(8, 4, 3), "aux": second})
    module_path = tmp_path / "model.pt"
    torch.save(model, module_path)
    with pytest.warns(UserWarning, match="holds 2 Conv1d weights"):
        bank = load_conv1d_bank(module_path, trust_pickle=True)
    assert bank.stride == 4  # the module's own stride
    assert torch.equal(bank.weights, first.weight.detach()[:, 0, :].double())
    by_module = load_conv1d_bank(module_path, key="aux", trust_pickle=True)
    by_key = load_conv1d_bank(module_path, key="aux.weight", stride=2, trust_pickle=True)
    assert torch.equal(by_module.weights, second.weight.detach()[:, 0, :].double())
    assert torch.equal(by_key.weights, by_module.weights) and by_key.stride == 2

    ckpt_path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 3, "model": model.state_dict()}, ckpt_path)
    nested = load_conv1d_bank(ckpt_path, key="model.aux")
    assert torch.equal(nested.weights, by_module.weights) and nested.stride == 1

    tensor_path = tmp_path / "w.pt"
    torch.save(second.weight.detach(), tensor_path)
    assert torch.equal(load_conv1d_bank(tensor_path).weights, by_module.weights)


def test_torch_errors(tmp_path):
    with pytest.raises(ParameterError, match="must be an existing file written by torch.save"):
        load_conv1d_bank(tmp_path / "missing.pt")
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(ParameterError, match="cannot be read by torch.load"):
        load_conv1d_bank(garbage)
    no_conv = tmp_path / "linear.pt"
    torch.save(torch.nn.Linear(4, 2).state_dict(), no_conv)
    with pytest.raises(
        ParameterError, match=r"must hold a Conv1d weight of shape .*'weight': \(2, 4\)"
    ):
        load_conv1d_bank(no_conv)
    conv = tmp_path / "conv.pt"
    torch.save(_conv(4, 8).state_dict(), conv)
    with pytest.raises(ParameterError, match="key='decoder' must name one of the Conv1d weights"):
        load_conv1d_bank(conv, key="decoder")
    with pytest.raises(TypeError, match="key=3 must be a str"):
        load_conv1d_bank(conv, key=3)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        load_conv1d_bank(3)
    scalar = tmp_path / "scalar.pt"
    torch.save([1, 2], scalar)
    with pytest.raises(ParameterError, match="must hold a state dict, a tensor or an nn.Module"):
        load_conv1d_bank(scalar)


# ----------------------------------------------------------------------- the numbers


def test_random_frames_equal_the_scaling_module(random_report):
    """Draw d uses draw_seeds(seed, J, T)[d]: the statistics equal condition_number_stats."""
    n_fft = random_report.settings["n_fft"]
    assert n_fft == 1024
    stats = condition_number_stats(J, T, n_fft=n_fft, n_draws=DRAWS, seed=3, quantiles=(0.05, 0.95))
    full = random_report.frames["full band"]
    assert full["median kappa"] == pytest.approx(stats.median_kappa[0], rel=1e-12)
    assert full["kappa 95%"] == pytest.approx(stats.kappa_quantiles[0, 1], rel=1e-12)
    assert full["mean B / mean A"] == pytest.approx(stats.ratio_of_means[0], rel=1e-12)
    assert full["mean kappa"] >= full["median kappa"] * 0.5
    sc = random_report.scaling
    i = int(np.flatnonzero(sc.kernel_sizes == T)[0])
    assert sc.n_draws == DRAWS and sc.median[i] == pytest.approx(full["median kappa"], rel=1e-12)
    assert sc.marker["median kappa"] == full["median kappa"]


def test_energies_equal_energy_response(random_report, clips):
    """The Toeplitz quadratic form agrees with the FFT energy response, draw by draw."""
    weights = torch.stack([gaussian(J, T, seed=s).weights for s in draw_seeds(3, J, T, DRAWS)])
    for clip in random_report.clips:
        x = clips[clip.name][0]
        direct = energy_response(weights, x).numpy() / np.sum(x**2)
        np.testing.assert_allclose(clip.energies, direct, rtol=1e-10)


def test_impulse_matches_the_chi_square_law(random_report):
    """Impulse: e ~ chi2_{JT} / (JT) exactly (reference table: 95% quantile 1.0937 at T=64)."""
    clip = random_report.clips[0]
    dof = J * T
    law = scipy.stats.chi2(dof, scale=1.0 / dof)
    assert clip.exact_quantiles[0.95] == pytest.approx(law.ppf(0.95), abs=1e-8)
    assert clip.exact_quantiles[0.95] - 1 == pytest.approx(0.0937, abs=5e-5)
    assert clip.exact_quantiles[0.05] == pytest.approx(law.ppf(0.05), abs=1e-8)
    assert clip.mean == pytest.approx(1.0, abs=1e-12)
    # two-sided deviation at p = 0.05 and the probability of a 10% deviation
    a = clip.deviation
    assert law.cdf(1 - a) + law.sf(1 + a) == pytest.approx(0.05, abs=1e-5)
    assert clip.prob_alpha == pytest.approx(law.cdf(0.9) + law.sf(1.1), abs=1e-8)
    # the finite-difference density is the chi-square density and integrates to ~1
    np.testing.assert_allclose(clip.density, law.pdf(clip.grid), rtol=2e-3, atol=1e-3)
    mass = np.sum(clip.density * np.diff(clip.grid).mean())
    assert 0.997 < mass < 1.001


def test_bound_curves_and_findings(random_report):
    curves = random_report.bounds[0]
    assert curves.kernel_sizes.tolist() == [8, 16, 32, 64, 128, 256]
    # impulse: Cantelli alpha = sqrt(3.8 / T) (reference), exact 95% quantile table
    np.testing.assert_allclose(
        curves.alphas["cantelli"], np.sqrt(2 * 19 / (J * curves.kernel_sizes)), rtol=1e-10
    )
    np.testing.assert_allclose(curves.exact[:3], [0.2735, 0.1907, 0.1335], atol=5e-5)
    for label in ("chebyshev", "cantelli", "bernstein"):
        assert np.all(curves.alphas[label] >= curves.exact)
    text = " ".join(random_report.findings)
    dev = random_report.clips[0].deviation
    assert "On impulse, 5% of initialisations change the energy by more than" in text
    assert f"{100 * dev:.0f}%" in text or f"{100 * dev:.2g}%" in text
    median = random_report.frames["full band"]["median kappa"]
    assert f"the median condition number kappa is {fmt(median)}" in text
    assert "kappa_tilde" in text
    # the sine spreads more than the impulse (its autocorrelation does not decay)
    assert "The energy spreads most on sine" in text


def test_fixed_bank_report(fixed_report, gabor_bank):
    frames = fixed_report.frames
    assert list(frames) == [
        "this bank, full band",
        "this bank, in band 60-3900 Hz",
        "random Gaussian reference, full band",
    ]
    n_fft = fixed_report.settings["n_fft"]
    full = float(condition_number(gabor_bank, n_fft=n_fft))
    inband = float(condition_number(gabor_bank, n_fft=n_fft, band=(60.0, 3900.0)))
    assert frames["this bank, full band"]["kappa"] == pytest.approx(full, rel=1e-12)
    assert frames["this bank, in band 60-3900 Hz"]["kappa"] == pytest.approx(inband, rel=1e-12)
    # mel-Gabor leaves DC and Nyquist uncovered: far worse over the full band than in band
    assert full > 100 * inband
    text = " ".join(fixed_report.findings)
    assert f"kappa of this bank is {fmt(full)} over the full band and {fmt(inband)}" in text
    assert "random Gaussian initialisations change the energy" in text
    clip = fixed_report.clips[0]  # impulse: the bank keeps sum_j ||w_j||^2 of its energy
    assert clip.bank_energy == pytest.approx(float(gabor_bank.weights.abs().square().sum()))
    assert fixed_report.scaling.marker["this bank kappa"] == pytest.approx(full)


def test_tensor_bank_stride_and_sample_rate(clips):
    bank = Filterbank(torch.eye(4, 8, dtype=torch.float64), stride=2)
    data = build_report(bank, clips, n_draws=5, n_fft=64)
    assert data.bank["kind"] == "filterbank" and data.settings["sample_rate"] == 8000
    assert data.frames["this bank, full band"]["kappa"] == pytest.approx(1.0)
    assert any("stride 2" in note for note in data.notes)


def test_build_errors(clips):
    spec = BankSpec("gaussian", {"n_filters": 4, "kernel_size": 16})
    with pytest.raises(
        ParameterError, match=r"clips\['short'\] has n_samples=8; it must be >= kernel_size=16"
    ):
        build_report(spec, {"short": (np.ones(8), 8000)})
    with pytest.raises(ParameterError, match=r"must be > 0 \(x is all zeros\)"):
        build_report(spec, {"silence": (np.zeros(64), 8000)})
    with pytest.raises(ParameterError, match="clips={} must hold at least one clip"):
        build_report(spec, {})
    with pytest.raises(TypeError, match="clips must be a mapping"):
        build_report(spec, [np.ones(64)])
    with pytest.raises(TypeError, match=r"clips\['x'\] must be a \(signal, sample_rate\) pair"):
        build_report(spec, {"x": np.ones(64)})
    with pytest.raises(ParameterError, match=r"clips\['stereo'\].ndim=2 must be 1"):
        build_report(spec, {"stereo": (np.ones((2, 64)), 8000)})
    with pytest.raises(
        ParameterError, match="sample_rate=8000 must equal the bank's sample_rate=16000"
    ):
        build_report(
            BankSpec("gaussian", {"n_filters": 4, "kernel_size": 16, "sample_rate": 16000}),
            clips,
            sample_rate=8000,
        )
    with pytest.raises(
        ParameterError, match="n_fft=100 must be >= kernel_size=16 and a multiple of stride=3"
    ):
        build_report(
            BankSpec("gaussian", {"n_filters": 4, "kernel_size": 16, "stride": 3}), clips, n_fft=100
        )
    with pytest.raises(ParameterError, match=r"bank batch shape \(2,\) must be empty"):
        build_report(gaussian(4, 16, n_draws=2), clips)
    with pytest.raises(ParameterError, match=r"p=1.5 must be in the open interval \(0, 1\)"):
        build_report(spec, clips, p=1.5)
    with pytest.raises(ParameterError, match="n_draws=0 must be an integer >= 1"):
        build_report(spec, clips, n_draws=0)


# ------------------------------------------------------------------------------ files


def _temporaries(folder):
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture
def quick_figures(monkeypatch):
    """Stand-in PNG bytes (distinct per report): the file-handling tests need no plots."""

    def figures(data):
        return {key: quick_png(key, data) for key in report_html._FIGURES}

    monkeypatch.setattr(report_html, "report_figures", figures)


def quick_png(key, data):
    return f"png {key} {data.title}".encode()


def test_write_report_files(random_report, tmp_path):
    out = tmp_path / "report"
    page = write_report(random_report, out)
    assert page == out / "report.html"
    html = page.read_text()
    md = (out / "report.md").read_text()
    assert html.count('src="data:image/png;base64,') == 4
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    images = re.findall(r"\]\((img/[^)]+\.png)\)", md)
    assert len(images) == 4 and all((out / p).is_file() for p in images)
    assert sorted(p.name for p in (out / "img").iterdir()) == sorted(p[4:] for p in images)
    median = fmt(random_report.frames["full band"]["median kappa"], 4)
    for text in (html, md):
        assert f"<td>{median}</td>" in text or f"| {median} |" in text
        assert "Findings" in text and "random draws of this configuration" in text
    assert markdown_escape(random_report.findings[0]) in md
    manifest = read_manifest(out)
    assert manifest["kind"] == "fbinit report" and manifest["fbinit"] == fbinit.__version__
    assert manifest["settings"]["seed"] == 3 and manifest["settings"]["n_draws"] == DRAWS
    assert manifest["settings"]["clips"] == ["impulse", "sine"]
    assert sorted(manifest["files"]) == sorted(["report.html", "report.md", *images])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporaries


def test_rewrite_replaces_the_report_whole_and_keeps_user_files(
    random_report, fixed_report, tmp_path, quick_figures
):
    out = tmp_path / "report"
    write_report(random_report, out)
    (out / "img" / "my-notes.png").write_bytes(b"user file")
    (out / "notes.txt").write_text("keep me")
    write_report(fixed_report, out)
    md = (out / "report.md").read_text()
    referenced = sorted(p[4:] for p in re.findall(r"\]\((img/[^)]+\.png)\)", md))
    assert sorted(p.name for p in (out / "img").iterdir()) == sorted([*referenced, "my-notes.png"])
    assert (out / "img" / "my-notes.png").read_bytes() == b"user file"
    assert (out / "notes.txt").read_text() == "keep me"
    html = (out / "report.html").read_text()
    assert "Condition-number report: gabor" in html
    for key in report_html._FIGURES:  # every image is the new report's
        assert (out / "img" / f"{key}.png").read_bytes() == quick_png(key, fixed_report)
    assert "notes.txt" not in read_manifest(out)["files"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_out_dir_must_be_a_directory(random_report, tmp_path, quick_figures):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ParameterError, match="must be a directory"):
        write_report(random_report, target)


def test_foreign_folder_is_refused_and_left_alone(random_report, tmp_path, quick_figures):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("do not delete")
    with pytest.raises(
        ParameterError, match=r"must be a new or empty folder, .*1 entry \('thesis.tex'\)"
    ):
        write_report(random_report, out)
    assert [p.name for p in out.iterdir()] == ["thesis.tex"]
    figures_dir = tmp_path / "figs"
    figures_dir.mkdir()
    (figures_dir / "manifest.json").write_text('{"kind": "fbinit figures", "files": []}')
    with pytest.raises(ParameterError, match="holds the output of 'fbinit figures'"):
        write_report(random_report, figures_dir)


def test_symlinked_report_folder_stays_a_link(random_report, fixed_report, tmp_path, quick_figures):
    real = tmp_path / "real"
    link = tmp_path / "link"
    write_report(random_report, real)
    link.symlink_to(real, target_is_directory=True)
    write_report(fixed_report, link)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert "gabor" in (real / "report.html").read_text()


def test_interrupted_write_keeps_the_previous_report(
    random_report, fixed_report, tmp_path, monkeypatch, quick_figures
):
    out = tmp_path / "report"
    write_report(random_report, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt("interrupted while rendering the page")

    monkeypatch.setattr(report_html, "render_html", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_report(fixed_report, out)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # the previous report, byte for byte, with nothing of the new one
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_interrupted_swap_keeps_the_previous_report(
    random_report, fixed_report, tmp_path, monkeypatch, quick_figures
):
    out = tmp_path / "report"
    write_report(random_report, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def failing_exchange(a, b):
        raise OSError(5, "I/O error during the swap")

    monkeypatch.setattr(fbinit._io, "_exchange", failing_exchange)
    with pytest.raises(OSError, match="I/O error during the swap"):
        write_report(fixed_report, out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_interrupted_first_write_leaves_no_report(
    random_report, tmp_path, monkeypatch, quick_figures
):
    out = tmp_path / "fresh"

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(report_html, "render_markdown", crash)
    with pytest.raises(OSError, match="disk full"):
        write_report(random_report, out)
    assert list(tmp_path.iterdir()) == []  # no report, no temporary folder


def test_concurrent_reports_into_one_folder_end_whole(
    random_report, fixed_report, tmp_path, quick_figures
):
    """Two runs at once: the folder ends as one run's report, never a mix of both."""
    out = tmp_path / "report"
    errors = []

    def write(data):
        try:
            for _ in range(5):
                write_report(data, out)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(d,)) for d in (random_report, fixed_report)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    title = "gabor" if "gabor" in (out / "report.html").read_text() else "gaussian"
    winner = fixed_report if title == "gabor" else random_report
    assert winner.title in (out / "report.md").read_text().replace("\\", "")
    for key in report_html._FIGURES:
        assert (out / "img" / f"{key}.png").read_bytes() == quick_png(key, winner)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_killed_run_leaves_no_report_and_its_staging_is_cleaned(
    random_report, tmp_path, quick_figures
):
    out = tmp_path / "report"
    code = (
        "import os, signal, sys\n"
        "from fbinit._io import output_set\n"
        f"with output_set({str(out)!r}, kind='fbinit report') as folder:\n"
        "    (folder / 'report.md').write_text('half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False)
    assert done.returncode == -signal.SIGKILL
    (staging,) = tmp_path.iterdir()  # the killed run's staging folder, nothing else
    assert staging.name.startswith(".report.") and staging.name.endswith(".tmp")
    assert not out.exists()
    write_report(random_report, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_markdown_and_html_escape_file_names(random_report, tmp_path, quick_figures):
    name = "<script>alert(1)</script> *bold* _x_ [link](http://e.x) | `code` & $m$"
    data = dataclasses.replace(
        random_report,
        clips=[dataclasses.replace(random_report.clips[0], name=name)],
        findings=[f"On {name}, something."],
    )
    write_report(data, tmp_path / "r")
    md = (tmp_path / "r" / "report.md").read_text()
    html = (tmp_path / "r" / "report.html").read_text()
    assert "<script>" not in md and "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "- On \\<script\\>alert(1)\\</script\\> \\*bold\\* \\_x\\_ \\[link\\](http://e.x)" in md
    assert "\\| \\`code\\` \\& \\$m\\$, something." in md
    # rendered as Markdown, the name reads as written
    assert markdown_escape(name).replace("\\", "") == name
    assert markdown_escape("two\nlines") == "two lines"


def test_fmt():
    assert fmt(math.inf) == "inf" and fmt(float("nan")) == "n/a" and fmt(None) == "n/a"
    assert fmt(5308.4) == "5308" and fmt(0.0) == "0" and fmt(-1.2345e7, 2) == "-1.2e+07"


def test_strided_random_configuration(clips):
    params = {"n_filters": 8, "kernel_size": 32, "stride": 4, "sample_rate": 8000, "fmin": 100}
    data = build_report(BankSpec("gaussian", params), clips, n_draws=10, seed=1)
    assert list(data.frames) == ["full band"]  # in-band bounds need stride 1
    assert any("stride 1 only" in note for note in data.notes)
    stats = condition_number_stats(8, 32, n_fft=1024, n_draws=10, seed=1, stride=4)
    assert data.frames["full band"]["median kappa"] == pytest.approx(stats.median_kappa[0])
    sc = data.scaling
    stride1 = fmt(sc.median[int(np.flatnonzero(sc.kernel_sizes == 32)[0])])
    assert f"the Monte Carlo median at stride 1 is {stride1}." in " ".join(data.findings)
