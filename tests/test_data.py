"""The lesion-level split: no lesion on both sides, every class on both sides, reproducible."""
from collections import Counter

import pytest

from core.config import CLASSES
from core.vision.data import DataError, Record, lesion_split, read_metadata
from tests.support import HAM_DIR, requires_ham


def _synthetic(n_lesions_per_class: int = 20, images_per_lesion: int = 3) -> list[Record]:
    recs = []
    for dx in CLASSES:
        for lesion in range(n_lesions_per_class):
            for image in range(1 + lesion % images_per_lesion):
                recs.append(Record(f"L_{dx}_{lesion}", f"I_{dx}_{lesion}_{image}", dx, 50.0, "male", "back", "x"))
    return recs


def _check_split(records, train, val):
    train_lesions = {r.lesion_id for r in train}
    val_lesions = {r.lesion_id for r in val}
    assert not train_lesions & val_lesions, "a lesion_id crosses the split"
    assert len(train) + len(val) == len(records)
    assert {r.dx for r in train} == {r.dx for r in val} == set(CLASSES)


def test_split_is_lesion_disjoint_and_stratified_synthetic():
    records = _synthetic()
    train, val = lesion_split(records, 0.2, seed=1)
    _check_split(records, train, val)
    per_class_val = Counter(r.dx for r in {r.lesion_id: r for r in val}.values())
    assert all(count == 4 for count in per_class_val.values())  # 20 % of 20 lesions per class


def test_split_is_deterministic_and_seed_dependent():
    records = _synthetic()
    assert lesion_split(records, 0.2, 7) == lesion_split(records, 0.2, 7)
    assert lesion_split(records, 0.2, 7)[1] != lesion_split(records, 0.2, 8)[1]


def test_conflicting_diagnoses_for_one_lesion_are_refused():
    records = _synthetic(2) + [Record("L_mel_0", "extra", "nv", None, "unknown", "unknown", "")]
    with pytest.raises(DataError, match="conflicting"):
        lesion_split(records)


def test_missing_metadata_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="metadata.csv"):
        read_metadata(tmp_path)
    (tmp_path / "metadata.csv").write_text("image_id,dx\nA,nv\n")
    with pytest.raises(DataError, match="lesion_id"):
        read_metadata(tmp_path)


@requires_ham
def test_real_ham10000_split():
    records = read_metadata(HAM_DIR)
    assert len(records) == 8523
    train, val = lesion_split(records)
    _check_split(records, train, val)
    val_share = len({r.lesion_id for r in val}) / len({r.lesion_id for r in records})
    assert 0.19 < val_share < 0.21
