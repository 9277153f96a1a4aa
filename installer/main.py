"""Entry point the install scripts run: ``python installer/main.py ARGS`` (see ``--help``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from installer.install import main

if __name__ == "__main__":
    sys.exit(main())
