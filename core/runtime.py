"""Process-wide runtime set-up, done once by each entry point (app, command line, benchmarks)."""
from __future__ import annotations

from core.config import Settings


def configure_torch(settings: Settings) -> None:
    """Apply `settings.torch_threads` (0 leaves torch's default: one thread per core)."""
    if settings.torch_threads:
        import torch

        torch.set_num_threads(settings.torch_threads)
