"""The benchmark page: every task's section as one HTML page and its Markdown twin.

The folder is one output set of kind :data:`BENCH_KIND` (:func:`fbinit._io.output_set`):
``bench.html`` (self-contained, figures embedded), ``bench.md`` with ``img/*.png``,
``records.json`` (every record the page was made from, with its task and seed) and
``manifest.json`` (the settings), swapped in whole.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fbinit._io import output_set
from fbinit.bench.section import Section
from fbinit.report.html import _CSS, _html_table, _md_table, _png, markdown_escape

__all__ = ["BENCH_KIND", "HTML_NAME", "MARKDOWN_NAME", "build_sections", "write_bench_report"]

BENCH_KIND = "fbinit bench"
HTML_NAME = "bench.html"
MARKDOWN_NAME = "bench.md"
_IMG_DIR = "img"
_TITLE = "fbinit frontend benchmark"
#: the page's order of task sections; the prediction section follows the training tasks
_ORDER = ("distill", "conditioning", "predict", "classify", "throughput")


def build_sections(records: Mapping[str, Sequence[dict[str, Any]]]) -> list[Section]:
    """Each task's section from its records (tasks without records are left out)."""
    from fbinit.bench.predict import section as predict_section
    from fbinit.bench.run import task_module

    sections = []
    for name in _ORDER:
        if name == "predict":
            training = [r for n in ("distill", "conditioning") for r in records.get(n, ())]
            if training:
                sections.append(predict_section(training))
        elif records.get(name):
            sections.append(task_module(name).section(list(records[name])))
    return sections


def _image_key(section: Section, name: str) -> str:
    """The figure's file stem: its name, prefixed by the section's key unless it is already."""
    return name if name.startswith(section.key) else f"{section.key}_{name}"


def _overview(settings: Mapping[str, Any]) -> list[list[str]]:
    return [[str(k), json.dumps(v) if not isinstance(v, str) else v] for k, v in settings.items()]


def _render_html(sections: list[Section], images: dict[str, bytes], settings) -> str:
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(_TITLE)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(_TITLE)}</h1>",
        "<nav><ul>"
        + "".join(f'<li><a href="#{esc(s.key)}">{esc(s.title)}</a></li>' for s in sections)
        + "</ul></nav>",
    ]
    for s in sections:
        parts.append(f'<h2 id="{esc(s.key)}">{esc(s.title)}</h2>')
        if s.findings:
            parts.append(
                '<ul class="findings">'
                + "".join(f"<li>{esc(f)}</li>" for f in s.findings)
                + "</ul>"
            )
        for table in s.tables:
            if table.caption:
                parts.append(f"<p>{esc(table.caption)}</p>")
            parts.append(_html_table(table.header, table.rows))
        for name, _ in s.figures:
            b64 = base64.b64encode(images[_image_key(s, name)]).decode("ascii")
            parts.append(f'<img src="data:image/png;base64,{b64}" alt="{esc(name)}">')
    parts.append("<h2>Settings</h2>")
    parts.append(_html_table(["setting", "value"], _overview(settings)))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _render_markdown(sections: list[Section], files: dict[str, str], settings) -> str:
    esc = markdown_escape
    parts = [f"# {esc(_TITLE)}", ""]
    for s in sections:
        parts += [f"## {esc(s.title)}", ""]
        parts += [f"- {esc(f)}" for f in s.findings]
        parts += [""] if s.findings else []
        for table in s.tables:
            if table.caption:
                parts += [esc(table.caption), ""]
            parts += [_md_table(table.header, table.rows), ""]
        for name, _ in s.figures:
            parts += [f"![{esc(name)}]({files[_image_key(s, name)]})", ""]
    parts += ["## Settings", "", _md_table(["setting", "value"], _overview(settings))]
    return "\n".join(parts) + "\n"


def write_bench_report(
    records: Mapping[str, Sequence[dict[str, Any]]],
    out_dir: str | Path,
    *,
    settings: Mapping[str, Any] | None = None,
) -> Path:
    """Write the benchmark page for ``records`` (task name -> records) into ``out_dir``.

    Returns
    -------
    pathlib.Path
        The HTML page.
    """
    settings = dict(settings or {})
    sections = build_sections(records)
    images = {_image_key(s, name): _png(fig) for s in sections for name, fig in s.figures}
    files = {key: f"{_IMG_DIR}/{key}.png" for key in images}
    with output_set(out_dir, kind=BENCH_KIND, settings=settings) as folder:
        (folder / _IMG_DIR).mkdir()
        for key, png in images.items():
            (folder / files[key]).write_bytes(png)
        (folder / "records.json").write_text(
            json.dumps({k: list(v) for k, v in records.items()}, indent=1), encoding="utf-8"
        )
        (folder / MARKDOWN_NAME).write_text(
            _render_markdown(sections, files, settings), encoding="utf-8"
        )
        (folder / HTML_NAME).write_text(_render_html(sections, images, settings), encoding="utf-8")
    return Path(out_dir) / HTML_NAME
