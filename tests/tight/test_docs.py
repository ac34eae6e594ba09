"""The examples of docs/conditioning.md run as doctests."""

import doctest
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_conditioning_page_examples():
    result = doctest.testfile(
        str(DOCS / "conditioning.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 20 and result.failed == 0
