"""The explain-eval bookkeeping on hand-made inputs with known answers: record selection, comparison
groups and the paired comparison with the centre prior. (The command itself runs on real images in
tests/test_explain.py.)"""
import pytest

from core.vision.data import Record
from core.explain.evaluation import REFERENCE, comparison_groups, paired_against_centre, select_records


def record(i: int, dx: str) -> Record:
    return Record(lesion_id=f"L{i}", image_id=f"I{i}", dx=dx, age=50.0, sex="female", localization="back",
                  dataset="test")


def test_select_records_caps_each_diagnosis_then_limits():
    records = [record(i, dx) for i, dx in enumerate(["nv", "nv", "mel", "nv", "mel", "bcc", "mel"])]
    picked = select_records(records, "all", {}, per_class=2)
    assert [r.image_id for r in picked] == ["I0", "I1", "I2", "I4", "I5"]
    assert [r.image_id for r in select_records(records, "all", {}, limit=3)] == ["I0", "I1", "I2"]
    assert select_records(records, "all", {}) == records


def scored(image_id: str, dx: str, target: str, coverage: float, cam: float, centre: float) -> dict:
    return {"image_id": image_id, "dx": dx, "target": target, "mask_coverage": coverage,
            "gradcam": {"energy_inside": cam, "pointing": 1.0, "iou": cam},
            REFERENCE: {"energy_inside": centre, "pointing": 1.0, "iou": centre}}


ROWS = [scored("a", "mel", "mel", 0.02, 0.5, 0.1),   # tiny lesion, right, CAM far better
        scored("b", "mel", "nv", 0.10, 0.3, 0.4),    # wrong prediction, CAM worse
        scored("c", "nv", "nv", 0.50, 0.8, 0.9),     # large lesion, CAM worse
        scored("d", "nv", "nv", 0.20, 0.7, 0.6)]


def test_comparison_groups_split_by_class_correctness_and_size():
    groups = {name: [r["image_id"] for r in rows] for name, rows in comparison_groups(ROWS, ["mel", "nv"], True).items()}
    assert groups["all"] == ["a", "b", "c", "d"]
    assert groups["mel"] == ["a", "b"] and groups["nv"] == ["c", "d"]
    assert groups["prediction right"] == ["a", "c", "d"] and groups["prediction wrong"] == ["b"]
    assert groups["lesion < 5% of frame"] == ["a"] and groups["lesion 5%–15% of frame"] == ["b"]
    assert groups["lesion 15%–35% of frame"] == ["d"] and groups["lesion ≥ 35% of frame"] == ["c"]
    assert "prediction right" not in comparison_groups(ROWS, ["mel", "nv"], False)


def test_paired_against_centre_known_differences():
    paired = paired_against_centre(ROWS, ["gradcam"], ["mel", "nv"], True)["gradcam"]
    energy = paired["all"]["energy_inside"]
    assert energy["mean_difference"] == pytest.approx((0.4 - 0.1 - 0.1 + 0.1) / 4)
    assert energy["wins"] == 0.5 and energy["losses"] == 0.5
    assert energy["reference"] == pytest.approx((0.1 + 0.4 + 0.9 + 0.6) / 4)
    assert paired["prediction wrong"]["energy_inside"]["mean_difference"] == pytest.approx(-0.1)
    assert paired["all"]["pointing"]["mean_difference"] == 0.0
