"""``python -m hub``: run the hub (see ``hub.server``)."""

import sys

from hub.server import main

sys.exit(main())
