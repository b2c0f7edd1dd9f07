"""`python -m jup.terminal` runs the terminal frontend, the same as `jup run terminal`."""

import sys

from jup.terminal.cli import main

sys.exit(main())
