"""The image quiz: validation images of a HAM10000-format folder, and the document to read for each class."""
from __future__ import annotations

import random
from collections.abc import Sequence

from core.vision.data import Record

# The knowledge-base document (lesions/<id>.md) that teaches each HAM10000 class.
CLASS_DOCUMENTS = {"akiec": "actinic-keratosis", "bcc": "basal-cell-carcinoma", "bkl": "benign-keratosis-like-lesions",
                   "df": "dermatofibroma", "mel": "melanoma", "nv": "melanocytic-naevus", "vasc": "vascular-lesions"}


def pick_images(records: Sequence[Record], allowed_ids: frozenset[str], n: int, seed: int) -> list[Record]:
    """n images of lesions the model never trained on, one per lesion, each class equally likely
    (a quiz of 70 % naevi would teach little)."""
    rng = random.Random(seed)
    by_class: dict[str, list[Record]] = {}
    seen_lesions: set[str] = set()
    for record in sorted(records, key=lambda r: r.image_id):
        if record.image_id in allowed_ids and record.lesion_id not in seen_lesions:
            seen_lesions.add(record.lesion_id)
            by_class.setdefault(record.dx, []).append(record)
    classes = sorted(by_class)
    picked: list[Record] = []
    while classes and len(picked) < n:
        dx = rng.choice(classes)
        pool = by_class[dx]
        picked.append(pool.pop(rng.randrange(len(pool))))
        if not pool:
            classes.remove(dx)
    return picked
