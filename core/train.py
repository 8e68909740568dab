"""Training: lesion-level split, balanced sampling, strong augmentation, early stopping on
validation balanced accuracy, resumable per epoch, then temperature scaling on validation.

Files written to the output folder:
  weights.safetensors + model.json   best epoch so far (the shippable checkpoint)
  train_state.pt                     last epoch's full state, for resuming (not shipped)
  train_log.jsonl                    one line per epoch
"""
from __future__ import annotations

import json
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from .config import CLASSES
from .data import Record, lesion_split, load_images, read_metadata
from .metrics import balanced_accuracy, sensitivity_per_class, confusion_matrix
from .model import BACKBONES, IMAGENET_MEAN, IMAGENET_STD, ModelMeta, build_model, save_checkpoint
from .transforms import inference_size, train_transform

STATE_FILE = "train_state.pt"
LOG_FILE = "train_log.jsonl"


@dataclass
class TrainConfig:
    data: str
    out: str
    backbone: str = "efficientnet_lite0"
    epochs: int = 14
    batch_size: int = 32
    train_crop: int = 192  # smaller random crops train faster; inference runs at the backbone's size
    lr: float = 1e-3
    head_lr_mult: float = 3.0
    weight_decay: float = 0.02
    warmup_epochs: float = 0.5
    label_smoothing: float = 0.05
    # The sampler and the loss each undo half of the imbalance (power 0.5), together all of it.
    balance_power: float = 0.5
    freeze_blocks: int = 3  # stem + first blocks keep their ImageNet weights: generic edges, cheaper backward
    patience: int = 5
    val_fraction: float = 0.2
    seed: int = 42
    threads: int = 0
    limit: int = 0  # use only the first N records (smoke tests)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _class_counts(records: list[Record]) -> np.ndarray:
    return np.bincount([r.label for r in records], minlength=len(CLASSES)).astype(float)


def _lr_lambda(cfg: TrainConfig, steps_per_epoch: int):
    total = cfg.epochs * steps_per_epoch
    warmup = max(1, int(cfg.warmup_epochs * steps_per_epoch))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.5 * (1 + math.cos(math.pi * progress))

    return factor


@torch.no_grad()
def _val_logits(model: nn.Module, images: torch.Tensor, batch_size: int, mean, std) -> torch.Tensor:
    model.eval()
    mean_t = torch.tensor(mean).view(1, 3, 1, 1)
    std_t = torch.tensor(std).view(1, 3, 1, 1)
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].permute(0, 3, 1, 2).float().div(255).sub(mean_t).div(std_t)
        out.append(model(x.contiguous(memory_format=torch.channels_last)))
    return torch.cat(out) if out else torch.zeros(0, len(CLASSES))


def train(cfg: TrainConfig) -> Path:
    started = time.time()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)

    records = read_metadata(cfg.data)
    if cfg.limit:
        records = records[: cfg.limit]
    train_recs, val_recs = lesion_split(records, cfg.val_fraction, cfg.seed)
    _log(f"data: {len(train_recs)} train / {len(val_recs)} validation images "
         f"({len({r.lesion_id for r in train_recs})} / {len({r.lesion_id for r in val_recs})} lesions)")

    input_size = BACKBONES[cfg.backbone].input_size
    t0 = time.time()
    train_images = load_images(cfg.data, train_recs)
    w, h = train_images.shape[2], train_images.shape[1]
    val_images = torch.from_numpy(load_images(cfg.data, val_recs, size=inference_size(w, h, input_size)))
    _log(f"decoded images into memory in {time.time() - t0:.0f}s")
    y_train = np.array([r.label for r in train_recs])
    y_val = np.array([r.label for r in val_recs])

    model = build_model(cfg.backbone, len(CLASSES), pretrained=True)
    for module in model.body.frozen_prefix(cfg.freeze_blocks):
        module.eval()
        for p in module.parameters():
            p.requires_grad = False
    model = model.to(memory_format=torch.channels_last)

    counts = _class_counts(train_recs)
    class_weight = counts ** -cfg.balance_power
    sample_weight = torch.tensor(class_weight[y_train], dtype=torch.double)
    loss_weight = torch.tensor(class_weight / class_weight.mean(), dtype=torch.float32)
    criterion = nn.CrossEntropyLoss(weight=loss_weight, label_smoothing=cfg.label_smoothing)

    head = list(model.fc.parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.lr * cfg.head_lr_mult}],
        weight_decay=cfg.weight_decay,
    )
    steps_per_epoch = len(train_recs) // cfg.batch_size
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(cfg, steps_per_epoch))
    generator = torch.Generator().manual_seed(cfg.seed)
    augment = train_transform(cfg.train_crop, IMAGENET_MEAN, IMAGENET_STD)

    start_epoch, best_score, best_epoch, elapsed_before = 0, -1.0, -1, 0.0
    state_path = out / STATE_FILE
    if state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=False)
        resumable = {k: v for k, v in asdict(cfg).items() if k not in ("epochs", "threads")}
        if {k: state["config"][k] for k in resumable} != resumable:
            raise SystemExit(f"{state_path} was written with a different configuration; use a new --out or delete it.")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        start_epoch, best_score, best_epoch = state["epoch"] + 1, state["best_score"], state["best_epoch"]
        elapsed_before = state.get("elapsed", 0.0)
        _log(f"resuming after epoch {start_epoch} (best balanced accuracy {best_score:.4f} at epoch {best_epoch + 1})")

    for epoch in range(start_epoch, cfg.epochs):
        if epoch - best_epoch > cfg.patience and best_epoch >= 0:
            _log(f"early stop: no improvement for {cfg.patience} epochs")
            break
        t_epoch = time.time()
        model.train()
        for module in model.body.frozen_prefix(cfg.freeze_blocks):
            module.eval()  # frozen layers keep their ImageNet batch-norm statistics
        order = torch.multinomial(sample_weight, steps_per_epoch * cfg.batch_size, replacement=True, generator=generator)
        running = 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", file=sys.stderr, mininterval=5)
        for step in bar:
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size].numpy()
            x = torch.stack([augment(torch.from_numpy(train_images[i]).permute(2, 0, 1)) for i in idx])
            y = torch.from_numpy(y_train[idx])
            loss = criterion(model(x.contiguous(memory_format=torch.channels_last)), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            running += loss.item()
            bar.set_postfix(loss=f"{running / (step + 1):.3f}")
        logits = _val_logits(model, val_images, 64, IMAGENET_MEAN, IMAGENET_STD)
        val_loss = float(nn.functional.cross_entropy(logits, torch.from_numpy(y_val)))
        pred = logits.argmax(1).numpy()
        score = balanced_accuracy(y_val, pred, len(CLASSES))
        sens = sensitivity_per_class(confusion_matrix(y_val, pred, len(CLASSES)))
        improved = score > best_score
        if improved:
            best_score, best_epoch = score, epoch
            meta = ModelMeta(backbone=cfg.backbone, classes=list(CLASSES), input_size=input_size,
                             version=f"{cfg.backbone}-epoch{epoch + 1}",
                             training={"config": asdict(cfg), "best_epoch": epoch + 1,
                                       "val_balanced_accuracy_untuned": score})
            save_checkpoint(out, model, meta)
        entry = {"epoch": epoch + 1, "train_loss": running / steps_per_epoch, "val_loss": val_loss,
                 "val_balanced_accuracy": score, "val_sensitivity": dict(zip(CLASSES, np.round(sens, 4).tolist())),
                 "lr": scheduler.get_last_lr()[0], "seconds": round(time.time() - t_epoch, 1), "best": improved}
        with (out / LOG_FILE).open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        _log(f"epoch {epoch + 1}: train loss {entry['train_loss']:.3f}, val loss {val_loss:.3f}, "
             f"val balanced accuracy {score:.4f}{' (best)' if improved else ''}, {entry['seconds']:.0f}s")
        tmp = out / (STATE_FILE + ".tmp")
        torch.save({"config": asdict(cfg), "epoch": epoch, "best_score": best_score, "best_epoch": best_epoch,
                    "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
                    "torch_rng": torch.get_rng_state(),
                    "elapsed": elapsed_before + time.time() - started}, tmp)
        tmp.replace(state_path)

    total = elapsed_before + time.time() - started
    _log(f"training done: best validation balanced accuracy {best_score:.4f} at epoch {best_epoch + 1}; {total / 60:.1f} min")
    from .calibrate import finalize

    finalize(out, cfg.data, val_fraction=cfg.val_fraction, seed=cfg.seed, limit=cfg.limit,
             training_extra={"wall_seconds": round(total), "hardware": _hardware()})
    return out


def _hardware() -> str:
    threads = torch.get_num_threads()
    return f"{platform.processor() or platform.machine()}, {threads} torch threads, torch {torch.__version__}, CPU"
