"""Training: lesion-level split, balanced sampling, strong augmentation, warm-up + cosine schedule,
an exponential moving average (EMA) of the weights, bf16 autocast, resumable per epoch.

The same command runs on a CPU or a CUDA device. The shipped weights are the EMA weights after the
last epoch: no epoch is picked by its validation score (the validation split is kept for calibration,
the decision rule and the reported figures). Validation balanced accuracy is still logged each epoch.

Files written to the output folder:
  weights.safetensors + model.json   the EMA weights after the last completed epoch
  train_state.pt                     last epoch's full state, for resuming (not shipped)
  train_log.jsonl                    one line per epoch
"""
from __future__ import annotations

import contextlib
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
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from core.config import CLASSES
from core.vision.data import Record, lesion_split, load_images, read_metadata
from core.vision.metrics import balanced_accuracy, confusion_matrix, sensitivity_per_class
from core.vision.model import (BACKBONES, IMAGENET_MEAN, IMAGENET_STD, ModelMeta, build_model, load_checkpoint,
                               save_checkpoint)
from core.vision.transforms import inference_size, train_transform

STATE_FILE = "train_state.pt"
LOG_FILE = "train_log.jsonl"


@dataclass
class TrainConfig:
    data: str
    out: str
    backbone: str = "efficientnet_lite0"
    epochs: int = 30
    batch_size: int = 32
    # Random crops smaller than the inference size: RandomResizedCrop enlarges objects, so testing at a
    # higher resolution than training matches apparent lesion size (Touvron et al. 2019, "FixRes").
    train_crop: int = 192
    lr: float = 6e-4
    head_lr_mult: float = 3.0
    weight_decay: float = 0.05
    warmup_epochs: float = 1.0
    label_smoothing: float = 0.05
    # The sampler and the loss each undo half of the imbalance (power 0.5), together all of it.
    balance_power: float = 0.5
    freeze_blocks: int = 0  # 0 = full fine-tuning; n keeps the stem and first n blocks at ImageNet weights
    # Short side at inference (and validation); 0 = the backbone's native size.
    input_size: int = 0
    # Start from a trained checkpoint's weights instead of ImageNet (a fresh schedule, e.g. a higher-resolution
    # second stage); "" = ImageNet.
    init_from: str = ""
    ema_decay: float = 0.998  # per step; about 2 epochs of memory at batch 32
    precision: str = "auto"  # "bf16" autocast, "fp32", or "auto" (see training_precision)
    val_fraction: float = 0.2
    seed: int = 42
    device: str = "auto"  # "auto" = CUDA when available, else CPU
    threads: int = 0
    limit: int = 0  # use only the first N records (smoke tests)


# Fields that may change between a run and its resumption without changing what is trained.
RESUME_FREE = ("epochs", "threads", "device")


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _class_counts(records: list[Record]) -> np.ndarray:
    return np.bincount([r.label for r in records], minlength=len(CLASSES)).astype(float)


def balance_weights(counts: np.ndarray, power: float) -> np.ndarray:
    """Per-class weight count ** -power; a class absent from the training records (a --limit run) gets 0,
    not 0 ** -power = inf, which turns the loss into NaN."""
    weights = np.zeros_like(counts, dtype=float)
    present = counts > 0
    weights[present] = counts[present] ** -power
    return weights


def warmup_cosine(cfg: TrainConfig, steps_per_epoch: int):
    total = cfg.epochs * steps_per_epoch
    warmup = max(1, int(cfg.warmup_epochs * steps_per_epoch))

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        return 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def training_precision(precision: str, device: torch.device) -> str:
    """"auto": bf16 autocast on CUDA and on CPUs with native bf16 (AVX-512 BF16: 2.7x faster there), else fp32,
    because emulated bf16 on an AVX2-only CPU was 9x slower than fp32 (36 s against 4 s a step, measured)."""
    if precision != "auto":
        return precision
    native = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)
    return "bf16" if device.type == "cuda" or native() else "fp32"


def autocast(device: torch.device, precision: str):
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    if precision == "fp32":
        return contextlib.nullcontext()
    raise ValueError(f"precision must be 'bf16' or 'fp32', not {precision!r}")


@torch.no_grad()
def _val_logits(model: nn.Module, images: torch.Tensor, batch_size: int, mean, std,
                device: torch.device, precision: str) -> torch.Tensor:
    model.eval()
    mean_t = torch.tensor(mean, device=device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, device=device).view(1, 3, 1, 1)
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i : i + batch_size].to(device).permute(0, 3, 1, 2).float().div(255).sub(mean_t).div(std_t)
        with autocast(device, precision):
            out.append(model(x.contiguous(memory_format=torch.channels_last)).float().cpu())
    return torch.cat(out) if out else torch.zeros(0, len(CLASSES))


def config_mismatch(saved: dict, cfg) -> list[str]:
    current = asdict(cfg)
    return [k for k in current if k not in RESUME_FREE and saved.get(k, current[k]) != current[k]]


def train(cfg: TrainConfig) -> Path:
    started = time.time()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    precision = training_precision(cfg.precision, device)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)

    records = read_metadata(cfg.data)
    if cfg.limit:
        records = records[: cfg.limit]
    train_recs, val_recs = lesion_split(records, cfg.val_fraction, cfg.seed)
    _log(f"data: {len(train_recs)} train / {len(val_recs)} validation images "
         f"({len({r.lesion_id for r in train_recs})} / {len({r.lesion_id for r in val_recs})} lesions); "
         f"device {device}, {precision}")

    # The model first: a wrong --init-from stops the run before minutes of image decoding.
    model = build_model(cfg.backbone, len(CLASSES), pretrained=not cfg.init_from)
    if cfg.init_from:
        start, start_meta = load_checkpoint(cfg.init_from)
        if start_meta.backbone != cfg.backbone or list(start_meta.classes) != list(CLASSES):
            raise SystemExit(f"{cfg.init_from} holds a {start_meta.backbone} model for {start_meta.classes}; "
                             f"it cannot start a {cfg.backbone} run for {list(CLASSES)}.")
        model.load_state_dict(start.state_dict())
        _log(f"starting from the weights of {cfg.init_from} ({start_meta.version})")
    input_size = cfg.input_size or BACKBONES[cfg.backbone].input_size
    t0 = time.time()
    train_images = load_images(cfg.data, train_recs)
    w, h = train_images.shape[2], train_images.shape[1]
    val_images = torch.from_numpy(load_images(cfg.data, val_recs, size=inference_size(w, h, input_size)))
    _log(f"decoded images into memory in {time.time() - t0:.0f}s")
    y_train = np.array([r.label for r in train_recs])
    y_val = np.array([r.label for r in val_recs])

    frozen = model.body.frozen_prefix(cfg.freeze_blocks) if cfg.freeze_blocks else []
    for module in frozen:
        for p in module.parameters():
            p.requires_grad = False
    model = model.to(device, memory_format=torch.channels_last)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)

    counts = _class_counts(train_recs)
    class_weight = balance_weights(counts, cfg.balance_power)
    sample_weight = torch.tensor(class_weight[y_train], dtype=torch.double)
    loss_weight = torch.tensor(class_weight / class_weight[counts > 0].mean(), dtype=torch.float32, device=device)
    criterion = nn.CrossEntropyLoss(weight=loss_weight, label_smoothing=cfg.label_smoothing)

    head = list(model.fc.parameters())
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": cfg.lr}, {"params": head, "lr": cfg.lr * cfg.head_lr_mult}],
        weight_decay=cfg.weight_decay,
    )
    steps_per_epoch = len(train_recs) // cfg.batch_size
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(cfg, steps_per_epoch))
    generator = torch.Generator().manual_seed(cfg.seed)
    augment = train_transform(cfg.train_crop, IMAGENET_MEAN, IMAGENET_STD)

    state_path = out / STATE_FILE
    start_epoch, elapsed_before = resume(state_path, cfg, device, model, ema, optimizer, scheduler, generator)

    for epoch in range(start_epoch, cfg.epochs):
        t_epoch = time.time()
        model.train()
        for module in frozen:
            module.eval()  # frozen layers keep their ImageNet batch-norm statistics
        order = torch.multinomial(sample_weight, steps_per_epoch * cfg.batch_size, replacement=True, generator=generator)
        running = 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", file=sys.stderr, mininterval=10)
        for step in bar:
            idx = order[step * cfg.batch_size : (step + 1) * cfg.batch_size].numpy()
            x = torch.stack([augment(torch.from_numpy(train_images[i]).permute(2, 0, 1)) for i in idx])
            x = x.to(device, non_blocking=True).contiguous(memory_format=torch.channels_last)
            y = torch.from_numpy(y_train[idx]).to(device)
            with autocast(device, precision):
                loss = criterion(model(x).float(), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            ema.update_parameters(model)
            running += loss.item()
            bar.set_postfix(loss=f"{running / (step + 1):.3f}", refresh=False)
        scores = {}
        for name, net in (("model", model), ("ema", ema.module)):
            logits = _val_logits(net, val_images, 64, IMAGENET_MEAN, IMAGENET_STD, device, precision)
            pred = logits.argmax(1).numpy()
            scores[name] = {
                "loss": float(nn.functional.cross_entropy(logits, torch.from_numpy(y_val))),
                "balanced_accuracy": balanced_accuracy(y_val, pred, len(CLASSES)),
                "sensitivity": dict(zip(CLASSES, np.round(
                    sensitivity_per_class(confusion_matrix(y_val, pred, len(CLASSES))), 4).tolist())),
            }
        meta = ModelMeta(backbone=cfg.backbone, classes=list(CLASSES), input_size=input_size,
                         version=f"{cfg.backbone}-epoch{epoch + 1}",
                         training={"config": asdict(cfg), "epochs_completed": epoch + 1, "weights": "ema",
                                   "val_balanced_accuracy_untuned": scores["ema"]["balanced_accuracy"]})
        save_checkpoint(out, ema.module, meta)
        entry = {"epoch": epoch + 1, "train_loss": running / steps_per_epoch,
                 "val": scores, "lr": scheduler.get_last_lr()[0], "seconds": round(time.time() - t_epoch, 1)}
        with (out / LOG_FILE).open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        _log(f"epoch {epoch + 1}: train loss {entry['train_loss']:.3f}; validation balanced accuracy "
             f"{scores['model']['balanced_accuracy']:.4f} (EMA {scores['ema']['balanced_accuracy']:.4f}), "
             f"mel sensitivity {scores['ema']['sensitivity']['mel']:.3f} (EMA); {entry['seconds']:.0f}s")
        save_state(state_path, cfg, epoch, elapsed_before + time.time() - started,
                   model, ema, optimizer, scheduler, generator)

    finish(out / "model.json", cfg.epochs, elapsed_before + time.time() - started, device)
    return out


def resume(state_path: Path, cfg, device: torch.device, model: nn.Module, ema: nn.Module, optimizer, scheduler,
           generator: torch.Generator) -> tuple[int, float]:
    """Load a saved training state into the given objects: (first epoch to run, seconds already spent); (0, 0.0)
    when there is none. A state written with a different configuration (beyond RESUME_FREE) stops the run."""
    if not state_path.is_file():
        return 0, 0.0
    # weights_only: the state holds tensors, numbers and plain containers; nothing to unpickle beyond that.
    state = torch.load(state_path, map_location=device, weights_only=True)
    changed = config_mismatch(state["config"], cfg)
    if changed:
        raise SystemExit(f"{state_path} was written with a different configuration ({', '.join(changed)}); "
                         "use a new --out or delete it.")
    model.load_state_dict(state["model"])
    ema.load_state_dict(state["ema"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    _log(f"resuming after epoch {state['epoch'] + 1}")
    return state["epoch"] + 1, state.get("elapsed", 0.0)


def save_state(state_path: Path, cfg, epoch: int, elapsed: float, model: nn.Module, ema: nn.Module, optimizer,
               scheduler, generator: torch.Generator) -> None:
    """Everything needed to resume after `epoch`, written to a temporary file and renamed (never half a state)."""
    tmp = state_path.with_name(state_path.name + ".tmp")
    torch.save({"config": asdict(cfg), "epoch": epoch,
                "model": model.state_dict(), "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
                "torch_rng": torch.get_rng_state(), "elapsed": elapsed}, tmp)
    tmp.replace(state_path)


def finish(meta_path: Path, epochs: int, seconds: float, device: torch.device) -> None:
    """Log the run's end and record its wall time and hardware in the checkpoint's JSON."""
    _log(f"training done: {epochs} epochs, {seconds / 60:.1f} min")
    meta = json.loads(meta_path.read_text())
    meta["training"].update({"wall_seconds": round(seconds), "hardware": hardware_description(device)})
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")


def hardware_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)}, torch {torch.__version__}, CUDA"
    threads = torch.get_num_threads()
    return f"{platform.processor() or platform.machine()}, {threads} torch threads, torch {torch.__version__}, CPU"
