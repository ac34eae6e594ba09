"""The documentation site renders its mathematics offline: no script from a CDN.

Builds the real site (``mkdocs build --strict``), checks that no page loads a script, a
stylesheet or a font from another host, then serves the site on 127.0.0.1 and renders a
page of maths in headless Chromium with every other host unreachable: MathJax, served
from the site, must typeset every formula.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
REMOTE = re.compile(r"""<(script|link|img|iframe)\b[^>]*\b(src|href)=["']?(https?:)?//""", re.I)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    return out


def test_no_page_loads_anything_from_another_host(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        text = page.read_text(encoding="utf-8")
        remote = [m.group(0) for m in REMOTE.finditer(text)]
        # links to other sites in the text are fine; what the page loads is not
        loads = [r for r in remote if not r.lower().startswith("<a")]
        assert not loads, (page, loads)
        assert "fonts.googleapis" not in text and "unpkg.com" not in text
    energy = (site / "energy" / "index.html").read_text(encoding="utf-8")
    assert 'src="../assets/mathjax/tex-mml-chtml.js"' in energy
    assert (site / "assets" / "mathjax" / "tex-mml-chtml.js").stat().st_size > 100_000
    assert list((site / "assets" / "mathjax" / "output" / "chtml" / "fonts").rglob("*.woff"))


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no access log on stderr
        pass


@pytest.fixture
def server(site):
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def offline_chromium(chromium_factory):
    # every host but the local server is unreachable: a CDN script would not load
    return chromium_factory("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")


def test_maths_renders_without_network(server, offline_chromium):
    offline_chromium.get(f"{server}/energy/")
    WebDriverWait(offline_chromium, 60).until(
        lambda d: d.execute_script(
            "return document.querySelectorAll('.arithmatex').length > 0 && "
            "Array.from(document.querySelectorAll('.arithmatex')).every("
            "  e => e.querySelector('mjx-container') !== null)"
        )
    )
    counts = offline_chromium.execute_script(
        "return {formulas: document.querySelectorAll('.arithmatex').length,"
        " typeset: document.querySelectorAll('.arithmatex mjx-container').length,"
        " errors: document.querySelectorAll('mjx-merror').length,"
        " version: window.MathJax && MathJax.version}"
    )
    assert counts["formulas"] >= 10 and counts["typeset"] >= counts["formulas"], counts
    assert counts["errors"] == 0 and counts["version"].startswith("3."), counts
