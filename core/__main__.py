"""`python -m core`: Beacon's command line."""

import sys

from core.cli import main

sys.exit(main())
