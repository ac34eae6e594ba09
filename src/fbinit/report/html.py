"""Rendering of the condition-number report: figures, an HTML page and its Markdown twin.

The HTML page is self-contained (its PNG figures are embedded as base64 data URIs); the
Markdown twin references the same PNGs written beside it in ``img/``. The report folder is
one output set (:func:`fbinit._io.output_set`): ``report.html``, ``report.md``, ``img/``
and ``manifest.json`` (the settings) are built in a temporary folder and swapped in whole,
so an interrupted run leaves the previous report or none, never a mix of two runs.

Every text that comes from outside (clip names are file names) is escaped: for HTML with
:func:`html.escape`, for Markdown by backslash-escaping the characters that start
Markdown or HTML markup (:func:`markdown_escape`).
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from fbinit._io import output_set
from fbinit.report.condition_report import ReportData, fmt
from fbinit.report.figures import BOUND_LABELS, log2_axis

__all__ = [
    "HTML_NAME",
    "MARKDOWN_NAME",
    "REPORT_KIND",
    "markdown_escape",
    "report_figures",
    "render_html",
    "render_markdown",
    "write_report_files",
]

HTML_NAME = "report.html"
MARKDOWN_NAME = "report.md"
#: the kind of output set a report folder is (recorded in its manifest.json)
REPORT_KIND = "fbinit report"
_IMG_DIR = "img"
_FIGURES = ("lp", "energy", "bounds", "scaling")
_DPI = 110


# ----------------------------------------------------------------------------- figures


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _grid(n: int, width: float = 4.2, height: float = 3.0):
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(width * cols, height * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _lp_figure(data: ReportData) -> bytes:
    lp, info = data.lp, data.bank
    freqs = lp["freqs"]
    fig = Figure(figsize=(8.5, 3.6))
    ax = fig.subplots()
    if info["is_random"]:
        ax.fill_between(freqs, lp["q05"], lp["q95"], color="C0", alpha=0.25, label="5-95% of draws")
        ax.plot(freqs, lp["median"], color="C0", lw=1.2, label="median over draws")
        ax.plot(freqs, lp["draw"], color="C1", lw=0.5, alpha=0.6, label="one draw")
        sigma = info["sigma"]  # E LP(k) = J T sigma^2, 1 with the default sigma
        expected = 1.0 if sigma is None else info["n_filters"] * info["kernel_size"] * sigma**2
        ax.axhline(expected, color="k", ls="--", lw=0.8, label="expectation")
        values = lp["q05"], lp["q95"]
    else:
        ax.plot(freqs, lp["bank"], color="C0", lw=1.0, label="LP sum of this bank")
        ax.axhline(lp["bank"].min(), color="C3", ls=":", lw=0.8, label="A = min")
        ax.axhline(lp["bank"].max(), color="C2", ls=":", lw=0.8, label="B = max")
        values = (lp["bank"],)
    if info["band"] is not None:
        ax.axvspan(*info["band"], color="0.85", zorder=0, label="band")
    lo = min(float(np.min(v)) for v in values)
    hi = max(float(np.max(v)) for v in values)
    if lo > 0 and hi / lo > 50:
        ax.set_yscale("log")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("LP sum")
    ax.set_xlim(freqs[0], freqs[-1])
    ax.legend(fontsize=8, loc="best")
    ax.set_title("Littlewood-Paley sum", fontsize=10)
    return _png(fig)


def _energy_figure(data: ReportData) -> bytes:
    fig, axes = _grid(len(data.clips))
    for ax, clip in zip(axes, data.clips, strict=True):
        bins = max(10, round(2 * clip.energies.size ** (1 / 3)))  # Rice rule
        ax.hist(clip.energies, bins=bins, density=True, color="C0", alpha=0.5, label="draws")
        ax.plot(clip.grid, clip.density, color="k", lw=1.2, label="exact density")
        ax.axvline(clip.mean, color="0.4", ls="--", lw=0.8)
        for level in (0.05, 0.95):
            ax.axvline(clip.exact_quantiles[level], color="C3", ls=":", lw=0.9)
        ax.set_title(clip.name, fontsize=10)
        ax.set_xlabel(r"$\|\Phi x\|^2 / \|x\|^2$")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("density")
    fig.tight_layout()
    return _png(fig)


def _bounds_figure(data: ReportData) -> bytes:
    fig, axes = _grid(len(data.bounds), width=5.0)
    T = data.bank["kernel_size"]
    styles = {"bernstein": ("--", "C0"), "cantelli": ("--", "C1"), "chebyshev": ("--", "C2")}
    for ax, curves in zip(axes, data.bounds, strict=True):
        sizes = curves.kernel_sizes
        ax.plot(sizes, curves.exact, "k-", lw=2, label="exact quantile")
        for method, alphas in curves.alphas.items():
            line, color = styles.get(method, (":", "C3"))
            ax.plot(sizes, alphas, line, color=color, lw=1.2, label=BOUND_LABELS[method])
        ax.axvline(T, color="0.5", lw=0.8, label=f"kernel_size={T}")
        ax.set_yscale("log")
        log2_axis(ax, [int(t) for t in sizes if t & (t - 1) == 0])
        ax.set_title(f"{curves.clip} (p={curves.p:g})", fontsize=10)
    axes[0].set_ylabel(r"deviation $\alpha$")
    fig.tight_layout()
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8)
    return _png(fig)


def _scaling_figure(data: ReportData) -> bytes:
    sc = data.scaling
    fig = Figure(figsize=(6.5, 3.8))
    ax = fig.subplots()
    ax.fill_between(sc.kernel_sizes, sc.q05, sc.q95, color="C0", alpha=0.2, label="5-95% of draws")
    ax.plot(sc.kernel_sizes, sc.median, "o-", color="C0", ms=3, label="Monte Carlo median")
    finite = np.isfinite(sc.kappa_tilde)
    if finite.any():
        ax.plot(
            sc.kernel_sizes[finite], sc.kappa_tilde[finite], "--", color="C1", label="kappa_tilde"
        )
    ax.plot(sc.kernel_sizes, sc.predicted, ":", color="C2", lw=1.6, label="extreme-value model")
    m = sc.marker
    ax.plot(
        m["kernel_size"],
        m["median kappa"],
        "*",
        ms=14,
        color="C3",
        mec="k",
        label="this configuration" if data.bank["is_random"] else "random reference",
    )
    if "this bank kappa" in m and np.isfinite(m["this bank kappa"]):
        ax.plot(
            m["kernel_size"],
            m["this bank kappa"],
            "D",
            ms=8,
            color="C4",
            mec="k",
            label="this bank",
        )
    ax.set_yscale("log")
    log2_axis(ax, [int(t) for t in sc.kernel_sizes if t & (t - 1) == 0])
    ax.set_ylabel("condition number")
    ax.set_title(f"n_filters={sc.n_filters}, {sc.n_draws} draws per kernel size", fontsize=10)
    ax.legend(fontsize=8)
    return _png(fig)


def report_figures(data: ReportData) -> dict[str, bytes]:
    """The report's figures as PNG bytes: ``lp``, ``energy``, ``bounds``, ``scaling``."""
    return {
        "lp": _lp_figure(data),
        "energy": _energy_figure(data),
        "bounds": _bounds_figure(data),
        "scaling": _scaling_figure(data),
    }


# ----------------------------------------------------------------------------- content


def _sections(data: ReportData) -> list[tuple[str, str, str | None, list[tuple]]]:
    """(title, explanation, figure key, tables) of each section; a table is (header, rows)."""
    info, s = data.bank, data.settings
    random = info["is_random"]
    J, T = info["n_filters"], info["kernel_size"]
    draws = f"{s['n_draws']} random draws"
    ref = (
        f"the {draws} of this configuration"
        if random
        else f"{draws} of a random Gaussian bank with the same n_filters={J} and "
        f"kernel_size={T} (default sigma), the reference point for this fixed bank"
    )
    sections = []
    groups: list[tuple[tuple[str, ...], list[list[str]]]] = []
    for label, values in data.frames.items():
        keys = tuple(values)
        if not groups or groups[-1][0] != keys:
            groups.append((keys, []))
        groups[-1][1].append([label, *(fmt(v, 4) for v in values.values())])
    frame_tables = [(["", *keys], rows) for keys, rows in groups]
    if random:
        frame_text = (
            f"Statistics over {ref}: the median, mean and 5%/95% quantiles of the per-draw "
            "condition number kappa = B/A, the mean frame bounds, and mean(B)/mean(A), which "
            "is not a mean condition number."
        )
    else:
        frame_text = (
            "Optimal frame bounds A, B of this bank and kappa = B/A. The last row is the "
            f"random reference: statistics over {draws} of a Gaussian bank with the same "
            f"n_filters={J} and kernel_size={T}."
        )
    frame_text += (
        f" Signals of length N = {s['n_fft']} (circular convolution), stride "
        f"{info['stride']}; A||x||² ≤ ||Φx||² ≤ B||x||²."
    )
    if any("in band" in label for label in data.frames):
        frame_text += (
            " In band: only the frequencies in the band, i.e. bounds for signals whose "
            "spectrum lies in the band."
        )
    if info["complex"]:
        frame_text += " The filters are complex: bounds are those seen by real signals."
    sections.append(("Frame bounds and condition number", frame_text, None, frame_tables))
    lp_text = (
        "LP(f) = Σ_j |ŵ_j(f)|²: the energy gain of the (stride-1) bank at frequency f; "
        "its minimum and maximum are the frame bounds A and B."
    )
    lp_text += (
        f" Median and 5-95% band over the {draws}, and one draw; a random bank has expected "
        "LP sum equal to its expected energy gain (1 with the default sigma)."
        if random
        else " The shaded region is the bank's band."
    )
    sections.append(("Littlewood-Paley sum", lp_text, "lp", []))
    energy_text = (
        f"For each clip, the histogram of the energy ratio ||Φx||²/||x||² over {ref} "
        "(circular convolution, stride 1) against the exact density of its law, a weighted "
        "sum of chi-squares set by the clip's autocorrelation. Dotted lines: exact 5% and 95% "
        f"quantiles. The deviation at p = {s['p']:g} is the α with P(|e - E e| > α E e) = p."
    )
    if not random:
        energy_text += (
            " The last column is this bank's own energy ratio on the clip (at the bank's "
            "sample rate)."
        )
    header = [
        "clip",
        "duration (s)",
        "exact 5%",
        "exact median",
        "exact 95%",
        "draws 5%",
        "draws median",
        "draws 95%",
        f"deviation at p={s['p']:g}",
        "P(deviation > 10%)",
    ]
    rows = []
    for c in data.clips:
        rows.append(
            [
                c.name,
                fmt(c.n_samples / c.sample_rate, 3),
                *(fmt(c.exact_quantiles[lv], 4) for lv in (0.05, 0.5, 0.95)),
                *(fmt(c.mc_quantiles[lv], 4) for lv in (0.05, 0.5, 0.95)),
                fmt(c.deviation, 3),
                fmt(c.prob_alpha, 3),
            ]
        )
    if not random:
        header.append("this bank")
        for row, c in zip(rows, data.clips, strict=True):
            row.append(fmt(c.bank_energy, 4) if c.bank_energy is not None else "n/a")
    sections.append(("Energy response on the clips", energy_text, "energy", [(header, rows)]))
    bounds_text = (
        f"For each clip and kernel size, the deviation α with P(e ≥ 1 + α) ≤ p = {s['p']:g} "
        f"given by each bound, against the exact (1 - p) quantile of e - 1 (black), for a "
        f"random Gaussian bank with n_filters={J} (default sigma). The grey vertical line "
        f"marks kernel_size={T}. A curve below the exact one is not a valid bound."
    )
    sections.append(("Deviation bounds over kernel size", bounds_text, "bounds", []))
    sc = data.scaling
    scaling_text = (
        f"Median condition number of random Gaussian banks with n_filters={sc.n_filters} over "
        f"kernel size ({sc.n_draws} draws per kernel size, N = max(1024, 2 kernel_size)), the "
        "heuristic kappa_tilde = (1 + 2√(ln T / J)) / (1 - 2√(ln T / J)) (defined for "
        "J > 4 ln T)"
        + " and the prediction of the extreme-value model (no fitted constant)"
        + ". The star marks "
        + ("this configuration." if random else "the random reference; the diamond this bank.")
    )
    scaling_rows = [
        [
            str(int(t)),
            fmt(m, 4),
            fmt(lo, 4),
            fmt(hi, 4),
            fmt(k, 4),
            fmt(sc.predicted[i], 4),
        ]
        for i, (t, m, lo, hi, k) in enumerate(
            zip(sc.kernel_sizes, sc.median, sc.q05, sc.q95, sc.kappa_tilde, strict=True)
        )
    ]
    scaling_header = [
        "kernel_size",
        "median kappa",
        "5%",
        "95%",
        "kappa_tilde",
        "extreme-value model",
    ]
    sections.append(("Scaling law", scaling_text, "scaling", [(scaling_header, scaling_rows)]))
    return sections


def _settings_rows(data: ReportData) -> list[list[str]]:
    info, s = data.bank, data.settings
    band = info["band"]
    rows = [
        ["bank", info["label"]],
        ["kind", "random configuration" if info["is_random"] else "one fixed bank"],
        ["n_filters", str(info["n_filters"])],
        ["kernel_size", str(info["kernel_size"])],
        ["stride", str(info["stride"])],
        ["sample_rate (Hz)", f"{s['sample_rate']:g}"],
        ["band (Hz)", "full band" if band is None else f"{band[0]:g} - {band[1]:g}"],
        ["complex filters", "yes" if info["complex"] else "no"],
        ["random draws", str(s["n_draws"])],
        ["seed", str(s["seed"])],
        ["N (n_fft)", str(s["n_fft"])],
        ["p", f"{s['p']:g}"],
        ["fbinit", str(s["fbinit"])],
    ]
    return rows


# -------------------------------------------------------------------------------- HTML

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em;
     border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { background: #f3f3f3; }
img { max-width: 100%; height: auto; display: block; margin: 0.6em 0; }
.findings li { margin: 0.3em 0; }
.note { color: #555; font-size: 0.9em; }
"""


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(data: ReportData, images: dict[str, bytes]) -> str:
    """The self-contained HTML page, with ``images`` (PNG bytes) embedded as data URIs."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(data.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(data.title)}</h1>",
        "<h2>Findings</h2>",
        '<ul class="findings">' + "".join(f"<li>{esc(f)}</li>" for f in data.findings) + "</ul>",
    ]
    for title, text, key, tables in _sections(data):
        parts.append(f"<h2>{esc(title)}</h2><p>{esc(text)}</p>")
        if key is not None:
            b64 = base64.b64encode(images[key]).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{b64}" alt="{esc(title)}">')
        parts.extend(_html_table(h, r) for h, r in tables)
    if data.notes:
        parts.append("<h2>Notes</h2><ul>")
        parts.extend(f'<li class="note">{esc(n)}</li>' for n in data.notes)
        parts.append("</ul>")
    parts.append("<h2>Settings</h2>")
    parts.append(_html_table(["setting", "value"], _settings_rows(data)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------------------- Markdown


# characters that start Markdown or HTML markup anywhere in a line; an underscore only
# where it can start or end emphasis (not inside a word such as n_filters)
_MD_SPECIAL = re.compile(r"[\\`*{}\[\]<>&|~$#!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def markdown_escape(text: str) -> str:
    r"""Text for a Markdown line: markup characters backslash-escaped, line breaks as spaces.

    Escapes the characters that start emphasis, code, links, images, tables, maths or raw
    HTML anywhere in a line (CommonMark lets any ASCII punctuation be backslash-escaped),
    so a file name such as ``<b>*x*</b>.wav`` shows as written. Underscores inside words
    (``n_filters``) cannot start emphasis and are left as they are.

    Examples
    --------
    >>> print(markdown_escape("<b>n_filters _x_*</b> | [x](y)"))
    \<b\>n_filters \_x\_\*\</b\> \| \[x\](y)
    """
    return _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), " ".join(str(text).splitlines()))


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = [
        "| " + " | ".join(markdown_escape(h) or " " for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(markdown_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(data: ReportData, image_files: dict[str, str]) -> str:
    """The Markdown twin; ``image_files`` maps a figure key to its path relative to the file."""
    esc = markdown_escape
    parts = [f"# {esc(data.title)}", "", "## Findings", ""]
    parts += [f"- {esc(f)}" for f in data.findings]
    for title, text, key, tables in _sections(data):
        parts += ["", f"## {esc(title)}", "", esc(text), ""]
        if key is not None:
            parts += [f"![{esc(title)}]({image_files[key]})", ""]
        for header, rows in tables:
            parts += [_md_table(header, rows), ""]
    if data.notes:
        parts += ["", "## Notes", ""] + [f"- {esc(n)}" for n in data.notes]
    parts += ["", "## Settings", "", _md_table(["setting", "value"], _settings_rows(data))]
    return "\n".join(parts) + "\n"


# ------------------------------------------------------------------------------ writing


def write_report_files(data: ReportData, out_dir: Any) -> Path:
    """Write ``report.html``, ``report.md`` and ``img/*.png`` into ``out_dir``, whole.

    Parameters
    ----------
    data : ReportData
    out_dir : str or os.PathLike
        The report folder, an output set of kind :data:`REPORT_KIND` (see
        :func:`fbinit._io.output_set`): it must be new, empty or hold a previous report,
        which is replaced whole (files a user added to it are kept). ``manifest.json``
        records the report's settings.

    Returns
    -------
    pathlib.Path
        The HTML page.
    """
    with output_set(out_dir, kind=REPORT_KIND, settings=_manifest_settings(data)) as folder:
        images = report_figures(data)
        files = {key: f"{_IMG_DIR}/{key}.png" for key in images}
        (folder / _IMG_DIR).mkdir()
        for key, png in images.items():
            (folder / files[key]).write_bytes(png)
        (folder / MARKDOWN_NAME).write_text(render_markdown(data, files), encoding="utf-8")
        (folder / HTML_NAME).write_text(render_html(data, images), encoding="utf-8")
    return Path(out_dir) / HTML_NAME


def _manifest_settings(data: ReportData) -> dict[str, Any]:
    info = data.bank
    return {
        "bank": info["label"],
        "n_filters": info["n_filters"],
        "kernel_size": info["kernel_size"],
        "stride": info["stride"],
        "clips": [c.name for c in data.clips],
        **data.settings,
    }
