"""Shared seeded fixtures."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(1234)
