"""Print the requirements of the torchaudio test environment, one per line.

They are the package's core dependencies (without torch, which the pins below replace),
its ``torchaudio`` and ``peers`` extras, and pytest with hypothesis. ``make test-torchaudio``
hashes this list together with the torch and torchaudio pins, so the environment is rebuilt
exactly when one of them changes. The package itself is not installed there: the tests
import it from the clone's ``src`` folder.
"""

import sys
import tomllib
from pathlib import Path

project = tomllib.loads(Path("pyproject.toml").read_text())["project"]
extras = project["optional-dependencies"]
requirements = [r for r in project["dependencies"] if not r.replace(" ", "").startswith("torch")]
requirements += extras["torchaudio"] + extras["peers"]
requirements += [r for r in extras["dev"] if r.startswith(("pytest>", "pytest=", "hypothesis"))]
sys.stdout.write("\n".join(requirements) + "\n")
