"""Classifier commands: train, predict, explain, evaluate."""
from __future__ import annotations

import argparse


def _train(args: argparse.Namespace) -> int:
    from ..train import TrainConfig, train

    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in TrainConfig.__dataclass_fields__})
    train(cfg)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from ..train import TrainConfig

    p = sub.add_parser("train", help="train the lesion classifier (resumes from the last completed epoch)")
    defaults = TrainConfig(data="", out="")
    p.add_argument("--data", required=True, help="HAM10000-format folder (metadata.csv + images/)")
    p.add_argument("--out", required=True, help="output folder for the checkpoint and training state")
    for name in ("backbone", "epochs", "batch_size", "train_crop", "lr", "weight_decay", "patience",
                 "freeze_blocks", "seed", "threads", "limit"):
        value = getattr(defaults, name)
        p.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    p.set_defaults(func=_train)
