"""``python -m core.cli``: the ``ecreteur`` command."""

import sys

from core.cli.main import main

sys.exit(main())
