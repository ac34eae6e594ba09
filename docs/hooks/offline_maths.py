"""MkDocs hook: serve MathJax from the site itself, so the maths renders offline.

MathJax 3 (Apache-2.0) comes from the PyPI package ``django-static-mathjax`` (installed by
the ``docs`` extra; it only ships MathJax's files and depends on nothing). Its ``es5``
folder, without the speech-rule engine, is added to the site under ``assets/mathjax/``;
``mkdocs.yml`` loads ``assets/mathjax/tex-mml-chtml.js`` after our configuration
(``javascripts/mathjax-config.js``). No script comes from a CDN.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from mkdocs.structure.files import File, Files

#: where the MathJax files go in the site
TARGET = "assets/mathjax"
#: parts of MathJax's es5 folder the site does not need (speech, server builds)
SKIP = ("sre/", "node-main.js")


def _mathjax_es5() -> Path:
    try:
        root = importlib.resources.files("mathjax") / "static" / "mathjax" / "es5"
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "MathJax is missing: install the docs extra (pip install -e '.[docs]'), which "
            "brings the django-static-mathjax package"
        ) from exc
    return Path(str(root))


def on_files(files: Files, config, **kwargs) -> Files:
    es5 = _mathjax_es5()
    for path in sorted(es5.rglob("*")):
        rel = path.relative_to(es5).as_posix()
        if path.is_file() and not rel.startswith(SKIP) and "-full" not in rel:
            files.append(
                File.generated(config, f"{TARGET}/{rel}", abs_src_path=str(path))
            )
    return files
