"""``python -m flcollector`` is the ``flcollector`` command."""

import sys

from .cli import main

sys.exit(main())
