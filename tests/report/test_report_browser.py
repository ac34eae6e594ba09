"""The HTML report renders in a real browser: headless Chromium through Selenium.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (``make browser`` installs
them) and the ``selenium`` package. With ``FBINIT_UPDATE_SCREENSHOT=1`` the test also saves
the rendered page as ``docs/img/report_screenshot.png`` for the documentation.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from fbinit import signals
from fbinit.report.bank_spec import BankSpec
from fbinit.report.condition_report import build_report, write_report

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "report_screenshot.png"
WIDTH = 1100


@pytest.fixture
def chromium(chromium_factory):
    return chromium_factory(f"--window-size={WIDTH},900")


def _report_data():
    """A quick report; the documentation's screenshot shows the ``make demo`` configuration."""
    if os.environ.get("FBINIT_UPDATE_SCREENSHOT") == "1":
        spec = BankSpec("gaussian", {"n_filters": 40, "kernel_size": 1024})
        return build_report(spec, {"arctic_a0007": signals.example()}, n_draws=200, seed=0)
    speech, rate = signals.example()
    clips = {
        "speech excerpt": (speech[8000:8512], rate),
        "sinusoid": (signals.sine(512, periods=24), rate),
    }
    spec = BankSpec("gaussian", {"n_filters": 20, "kernel_size": 64})
    return build_report(spec, clips, n_draws=50, seed=0)


def test_every_image_renders(chromium, tmp_path):
    data = _report_data()
    page = write_report(data, tmp_path / "report")

    chromium.get(page.as_uri())
    WebDriverWait(chromium, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "Array.from(document.images).every(i => i.complete)"
        )
    )
    images = chromium.execute_script(
        "return Array.from(document.images).map(i => "
        "({alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,"
        "  shown: i.getBoundingClientRect().width}))"
    )
    assert len(images) == 4
    for image in images:
        assert image["complete"] and image["width"] > 100 and image["height"] > 100, image
        assert image["shown"] > 100, image  # laid out on the page, not collapsed
    assert chromium.title == data.title
    text = chromium.find_element("tag name", "body").text
    assert data.findings[0] in text

    height = chromium.execute_script("return document.documentElement.scrollHeight")
    chromium.set_window_size(WIDTH, height)
    shot = tmp_path / "screenshot.png"
    assert chromium.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("FBINIT_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
