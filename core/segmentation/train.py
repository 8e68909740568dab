"""Training the lesion segmenter on HAM10000-format masks: the classifier's lesion-level split (so no lesion of
the classifier's validation images is trained on here either), joint geometric augmentation of image and mask,
colour jitter, binary cross-entropy + soft Dice loss, warm-up + cosine schedule, an EMA of the weights, bf16
autocast, resumable per epoch. The shipped weights are the EMA weights after the last epoch; validation Dice is
logged each epoch but no epoch is picked by it.

Files written to the output folder: weights.safetensors + segmenter.json (EMA weights after the last completed
epoch), train_state.pt (for resuming; not shipped), train_log.jsonl (one line per epoch).
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from core.segmentation.metrics import dice_iou
from core.segmentation.model import SegmenterMeta, build_segmenter, save_segmenter
from core.vision.data import Record, image_path, lesion_split, mask_path, read_metadata
from core.vision.model import IMAGENET_MEAN, IMAGENET_STD
from core.vision.train import autocast, finish, pick_device, resume, save_state, training_precision, warmup_cosine

STATE_FILE = "train_state.pt"
LOG_FILE = "train_log.jsonl"


@dataclass
class SegmenterTrainConfig:
    data: str
    out: str
    epochs: int = 12
    batch_size: int = 16
    width: int = 192  # training and inference size (landscape); the mask is upsampled to the image's own grid
    height: int = 144
    lr: float = 1e-3
    weight_decay: float = 1e-4
    warmup_epochs: float = 0.5
    ema_decay: float = 0.998
    precision: str = "auto"
    val_fraction: float = 0.2
    seed: int = 42
    device: str = "auto"
    threads: int = 0
    limit: int = 0  # use only the first N records (smoke tests)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _load_pairs(folder: str, records: list[Record], size: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray, list[Record]]:
    """Images (N, H, W, 3) and masks (N, H, W) as uint8; records without a usable mask file are left out."""
    images, masks, kept = [], [], []
    for rec in records:
        path = mask_path(folder, rec.image_id)
        if not path.is_file():
            continue
        with Image.open(image_path(folder, rec.image_id)) as img, Image.open(path) as msk:
            img, msk = img.convert("RGB"), msk.convert("L")
            if msk.size != img.size:
                continue
            if size is not None:
                img, msk = img.resize(size, Image.BILINEAR), msk.resize(size, Image.BILINEAR)
            images.append(np.asarray(img, dtype=np.uint8))
            masks.append(np.asarray(msk, dtype=np.uint8))
            kept.append(rec)
    return np.stack(images), np.stack(masks), kept


def _augment(width: int, height: int):
    """Joint geometry for image and mask (dermoscopy has no canonical orientation or scale), colour for the image."""
    from torchvision import tv_tensors
    from torchvision.transforms import v2

    geometry = v2.Compose([
        v2.RandomRotation(degrees=180),
        v2.RandomResizedCrop((height, width), scale=(0.45, 1.0), ratio=(1.1, 1.6), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.RandomVerticalFlip(),
    ])
    colour = v2.ColorJitter(brightness=0.25, contrast=0.25, saturation=0.2, hue=0.03)

    def apply(image: np.ndarray, mask: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        img = tv_tensors.Image(torch.from_numpy(image).permute(2, 0, 1))
        msk = tv_tensors.Mask(torch.from_numpy(mask)[None])
        img, msk = geometry(img, msk)
        return colour(img), msk

    return apply


def _normalise(batch_uint8: torch.Tensor, device: torch.device) -> torch.Tensor:
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    x = batch_uint8.to(device).float().div(255).sub(mean).div(std)
    return x.contiguous(memory_format=torch.channels_last)


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    prob = torch.sigmoid(logits).flatten(1)
    target = target.flatten(1)
    inter = (prob * target).sum(1)
    return (1 - (2 * inter + eps) / (prob.sum(1) + target.sum(1) + eps)).mean()


@torch.no_grad()
def _val_scores(net: nn.Module, images: np.ndarray, masks: np.ndarray, device: torch.device, precision: str) -> dict:
    net.eval()
    dice, iou = [], []
    for i in range(0, len(images), 64):
        x = _normalise(torch.from_numpy(images[i:i + 64]).permute(0, 3, 1, 2), device)
        with autocast(device, precision):
            pred = (net(x).float() > 0).squeeze(1).cpu().numpy()
        for p, m in zip(pred, masks[i:i + 64] > 127):
            d, j = dice_iou(p, m)
            dice.append(d)
            iou.append(j)
    return {"dice": float(np.mean(dice)), "iou": float(np.mean(iou))}


def train_segmenter(cfg: SegmenterTrainConfig) -> Path:
    started = time.time()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    precision = training_precision(cfg.precision, device)
    torch.manual_seed(cfg.seed)

    records = read_metadata(cfg.data)
    if cfg.limit:
        records = records[: cfg.limit]
    train_recs, val_recs = lesion_split(records, cfg.val_fraction, cfg.seed)
    t0 = time.time()
    train_images, train_masks, train_recs = _load_pairs(cfg.data, train_recs, None)
    val_images, val_masks, val_recs = _load_pairs(cfg.data, val_recs, (cfg.width, cfg.height))
    _log(f"data: {len(train_recs)} train / {len(val_recs)} validation image-mask pairs, decoded in "
         f"{time.time() - t0:.0f}s; device {device}, {precision}")

    model = build_segmenter(pretrained=True).to(device, memory_format=torch.channels_last)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = len(train_recs) // cfg.batch_size
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine(cfg, steps_per_epoch))
    generator = torch.Generator().manual_seed(cfg.seed)
    augment = _augment(cfg.width, cfg.height)

    state_path = out / STATE_FILE
    start_epoch, elapsed_before = resume(state_path, cfg, device, model, ema, optimizer, scheduler, generator)

    for epoch in range(start_epoch, cfg.epochs):
        t_epoch = time.time()
        model.train()
        order = torch.randperm(len(train_recs), generator=generator)
        running = 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{cfg.epochs}", file=sys.stderr, mininterval=10)
        for step in bar:
            pairs = [augment(train_images[i], train_masks[i])
                     for i in order[step * cfg.batch_size:(step + 1) * cfg.batch_size].tolist()]
            x = _normalise(torch.stack([p[0] for p in pairs]), device)
            y = (torch.stack([p[1] for p in pairs]).to(device).float() > 127).float()
            with autocast(device, precision):
                logits = model(x).float()
            loss = F.binary_cross_entropy_with_logits(logits, y) + soft_dice_loss(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            ema.update_parameters(model)
            running += loss.item()
            bar.set_postfix(loss=f"{running / (step + 1):.3f}", refresh=False)
        scores = {"model": _val_scores(model, val_images, val_masks, device, precision),
                  "ema": _val_scores(ema.module, val_images, val_masks, device, precision)}
        meta = SegmenterMeta(input_size=(cfg.width, cfg.height), version=f"lite0-fpn-epoch{epoch + 1}",
                             training={"config": asdict(cfg), "epochs_completed": epoch + 1, "weights": "ema"})
        save_segmenter(out, ema.module, meta)
        entry = {"epoch": epoch + 1, "train_loss": running / steps_per_epoch, "val": scores,
                 "lr": scheduler.get_last_lr()[0], "seconds": round(time.time() - t_epoch, 1)}
        with (out / LOG_FILE).open("a") as fh:
            fh.write(json.dumps(entry) + "\n")
        _log(f"epoch {epoch + 1}: train loss {entry['train_loss']:.3f}; validation Dice {scores['model']['dice']:.4f} "
             f"(EMA {scores['ema']['dice']:.4f}) at {cfg.width}x{cfg.height}; {entry['seconds']:.0f}s")
        save_state(state_path, cfg, epoch, elapsed_before + time.time() - started,
                   model, ema, optimizer, scheduler, generator)

    finish(out / "segmenter.json", cfg.epochs, elapsed_before + time.time() - started, device)
    return out
