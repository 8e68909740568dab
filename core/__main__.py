"""Command-line interface: `python -m core <command> ...` (see `python -m core --help`)."""
from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.cli import main  # noqa: E402

raise SystemExit(main())
