"""``python -m fbinit.cli``."""

import sys

from fbinit.cli import main

sys.exit(main())
