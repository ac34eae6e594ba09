"""Shared seeded fixtures."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)


@pytest.fixture
def chromium_factory():
    """Start headless Chromium drivers (Debian's chromium and chromium-driver) with extra
    arguments; every driver started is quit at the end of the test."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    drivers = []

    def start(*arguments: str):
        binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
        assert binary and driver_path, "install chromium and chromium-driver (make browser)"
        options = Options()
        options.binary_location = binary
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
            options.add_argument(arg)
        for arg in arguments:
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
        drivers.append(driver)
        return driver

    try:
        yield start
    finally:
        for driver in drivers:
            driver.quit()
