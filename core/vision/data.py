"""HAM10000-format folders: metadata, the lesion-level split, and images decoded once into memory."""
from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.config import CLASSES
from core.explain.localisation import mask_problem
from core.vision.fusion import PatientDetails


@dataclass(frozen=True)
class Record:
    lesion_id: str
    image_id: str
    dx: str
    age: float | None
    sex: str
    localization: str
    dataset: str

    @property
    def label(self) -> int:
        return CLASSES.index(self.dx)

    @property
    def details(self) -> PatientDetails:
        """Age, sex and site as the classifier's metadata fusion reads them ("unknown" = not given)."""
        return PatientDetails.clean(self.age, self.sex, self.localization)


class DataError(ValueError):
    """The folder is not in HAM10000 format; the message says what is missing."""


def read_metadata(folder: str | Path) -> list[Record]:
    folder = Path(folder)
    meta = folder / "metadata.csv"
    if not meta.is_file():
        raise DataError(f"{meta} not found: a HAM10000-format folder has metadata.csv and images/.")
    records: list[Record] = []
    with meta.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"lesion_id", "image_id", "dx"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"{meta} lacks the column(s): {', '.join(sorted(missing))}.")
        for row in reader:
            if row["dx"] not in CLASSES:
                raise DataError(f"{meta}: unknown diagnosis {row['dx']!r} for {row['image_id']}.")
            age = row.get("age") or ""
            records.append(
                Record(
                    lesion_id=row["lesion_id"],
                    image_id=row["image_id"],
                    dx=row["dx"],
                    age=float(age) if age else None,
                    sex=row.get("sex") or "unknown",
                    localization=row.get("localization") or "unknown",
                    dataset=row.get("dataset") or "",
                )
            )
    return records


def image_path(folder: str | Path, image_id: str) -> Path:
    return Path(folder) / "images" / f"{image_id}.jpg"


def mask_path(folder: str | Path, image_id: str) -> Path:
    return Path(folder) / "masks" / f"{image_id}.png"


def read_lesion_mask(folder: str | Path, image_id: str, size: tuple[int, int]) -> tuple[np.ndarray | None, str | None]:
    """(boolean mask, None), or (None, the reason it cannot be used)."""
    path = mask_path(folder, image_id)
    if not path.is_file():
        return None, "no mask file"
    try:
        with Image.open(path) as img:
            mask = np.asarray(img.convert("L")) > 127
    except OSError:
        return None, "unreadable mask"
    if mask.shape != (size[1], size[0]):
        return None, "mask and image differ in size"
    problem = mask_problem(mask)
    return (None, problem) if problem else (mask, None)


def lesion_split(
    records: list[Record], val_fraction: float = 0.2, seed: int = 42
) -> tuple[list[Record], list[Record]]:
    """Split by lesion_id, stratified by diagnosis: all images of a lesion land on one side.

    Lesions are shuffled per class with a fixed seed and the first `val_fraction` of each
    class (rounded, at least one) go to validation, so rare classes are represented on both sides.
    """
    by_lesion: dict[str, list[Record]] = defaultdict(list)
    for rec in records:
        by_lesion[rec.lesion_id].append(rec)
    lesions_by_class: dict[str, list[str]] = defaultdict(list)
    for lesion_id, recs in by_lesion.items():
        dxs = {r.dx for r in recs}
        if len(dxs) != 1:
            raise DataError(f"lesion {lesion_id} has conflicting diagnoses {sorted(dxs)}.")
        lesions_by_class[recs[0].dx].append(lesion_id)
    rng = random.Random(seed)
    val_lesions: set[str] = set()
    for dx in sorted(lesions_by_class):
        ids = sorted(lesions_by_class[dx])
        rng.shuffle(ids)
        n_val = max(1, round(len(ids) * val_fraction)) if len(ids) > 1 else 0
        val_lesions.update(ids[:n_val])
    train = [r for r in records if r.lesion_id not in val_lesions]
    val = [r for r in records if r.lesion_id in val_lesions]
    return train, val


def load_images(folder: str | Path, records: list[Record], size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode every image once into one uint8 array (N, H, W, 3); `size` is (width, height)."""
    arrays = []
    for rec in records:
        with Image.open(image_path(folder, rec.image_id)) as img:
            img = img.convert("RGB")
            if size is not None and img.size != size:
                img = img.resize(size, Image.BILINEAR)
            arrays.append(np.asarray(img, dtype=np.uint8))
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise DataError(f"images differ in size {sorted(shapes)[:3]}...; pass size= to resize them.")
    return np.stack(arrays) if arrays else np.zeros((0, 1, 1, 3), np.uint8)
