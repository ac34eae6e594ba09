"""The torchaudio tests run in the environment of ``make test-torchaudio`` only.

No torchaudio wheel imports beside the main environment's CPU torch, so this folder is
not collected there: ``make test-torchaudio`` builds a second environment (torch 2.9.1,
torchaudio 2.9.1, hybra) and runs it. This is not a skip standing in for an install step:
that target installs what these tests need.
"""

try:
    import hybra  # noqa: F401  (imports torchaudio)
    import torchaudio  # noqa: F401
except Exception:  # absent, or a wheel built for another torch
    collect_ignore_glob = ["test_*.py"]
