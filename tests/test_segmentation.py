"""The lesion segmenter (the shipped checkpoint on real HAM10000 images), its CLI contract, the heatmap placement
check, visit alignment and change, and a short real training run with its resumption."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from core.explain.placement import OFF_LESION_BELOW, place
from core.segmentation.metrics import dice_iou
from tests.support import HAM_DIR, ROOT, SEGMENTER_DIR, requires_ham, requires_segmenter, skin_like

# A lesion with two photos (HAM_0003350).
TWO_PHOTOS = ("ISIC_0024310", "ISIC_0027300")


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=600, **kw)


@pytest.fixture(scope="module")
def segmenter():
    from core.segmentation.segmenter import Segmenter

    return Segmenter.load(SEGMENTER_DIR)


def _ham(image_id: str) -> tuple[Image.Image, np.ndarray]:
    with Image.open(HAM_DIR / "images" / f"{image_id}.jpg") as img, Image.open(HAM_DIR / "masks" / f"{image_id}.png") as m:
        return img.convert("RGB"), np.asarray(m.convert("L")) > 127


@requires_segmenter
@requires_ham
def test_outlines_match_the_hand_drawn_masks(segmenter):
    from core.vision.data import lesion_split, read_metadata

    validation = {r.image_id for r in lesion_split(read_metadata(HAM_DIR), 0.2, 42)[1]}
    ids = sorted(validation)[:12]
    scores = []
    for image_id in ids:
        image, reference = _ham(image_id)
        result = segmenter.segment(image)
        assert result.mask.shape == reference.shape and result.mask.dtype == bool
        scores.append(dice_iou(result.mask, reference)[0])
    assert np.mean(scores) > 0.8, scores


@requires_segmenter
@requires_ham
def test_a_portrait_photo_gets_the_same_outline_turned(segmenter):
    image, _ = _ham(TWO_PHOTOS[0])
    landscape = segmenter.segment(image).mask
    portrait = segmenter.segment(image.transpose(Image.Transpose.ROTATE_90)).mask
    assert portrait.shape == (image.width, image.height)
    assert dice_iou(np.rot90(landscape), portrait)[0] > 0.9


@requires_segmenter
def test_plain_skin_has_no_lesion_to_outline(segmenter):
    skin = Image.new("RGB", (341, 256), (226, 180, 162))
    result = segmenter.segment(skin)
    assert result.problem is not None and not result.usable


@requires_segmenter
@requires_ham
def test_segment_cli_writes_binary_masks_on_each_images_grid(tmp_path):
    image, _ = _ham(TWO_PHOTOS[0])
    big = tmp_path / "big.png"
    image.resize((682, 512)).save(big)
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    r = _cli("segment", str(HAM_DIR / "images" / f"{TWO_PHOTOS[0]}.jpg"), str(big), str(bad),
             "--out-dir", str(tmp_path / "masks"))
    assert r.returncode == 0, r.stderr
    assert "skipped notes.jpg" in r.stderr and "Traceback" not in r.stderr
    for name, size in ((TWO_PHOTOS[0], image.size), ("big", (682, 512))):
        with Image.open(tmp_path / "masks" / f"{name}.png") as mask:
            assert mask.mode == "L" and mask.size == size
            assert set(np.unique(np.asarray(mask))) <= {0, 255}


def test_segment_cli_without_a_model_says_so(tmp_path):
    path = tmp_path / "lesion.png"
    skin_like().save(path)
    r = _cli("segment", str(path), "--out-dir", str(tmp_path / "out"), "--model-dir", str(tmp_path / "none"))
    assert r.returncode == 2 and "No segmentation model" in r.stderr and "Traceback" not in r.stderr


# --- the placement check -----------------------------------------------------------------------------


def test_placement_warns_only_when_the_heatmap_is_mostly_outside_a_usable_outline():
    yy, xx = np.mgrid[0:100, 0:120]
    outline = (yy - 50) ** 2 + (xx - 60) ** 2 < 30**2
    on = np.exp(-((yy - 50) ** 2 + (xx - 60) ** 2) / 200.0)
    off = np.exp(-((yy - 10) ** 2 + (xx - 10) ** 2) / 200.0)  # a corner: ruler, ink, vignette
    assert not place(on, outline).off_lesion and place(on, outline).beats_centre_prior
    corner = place(off, outline)
    assert corner.off_lesion and corner.energy_inside < OFF_LESION_BELOW and "mostly outside" in corner.summary()
    doubtful = place(off, outline, "no lesion found in the image")
    assert not doubtful.off_lesion and "not checked" in doubtful.summary()


@requires_segmenter
@requires_ham
def test_analysis_carries_the_outline_and_its_placement():
    from core.analysis import analyse
    from core.config import Settings
    from core.segmentation.segmenter import Segmenter
    from core.vision.classifier import Classifier

    settings = Settings()
    analysis = analyse((HAM_DIR / "images" / f"{TWO_PHOTOS[0]}.jpg").read_bytes(), Classifier.load(settings.model_dir),
                       settings, segmenter=Segmenter.load(settings.segmenter_dir))
    assert analysis.lesion is not None and analysis.lesion.usable
    placement = analysis.placement()
    assert 0.0 <= placement.energy_inside <= 1.0 and placement.outline_problem is None
    abcd = analysis.measurements(field_of_view_mm=15.0)
    assert abcd is not None and abcd.diameter_mm is not None and 0 < abcd.diameter_mm <= 15.0 * 1.3


# --- visits ------------------------------------------------------------------------------------------


@requires_ham
def test_two_photos_of_one_lesion_align_and_photos_of_two_lesions_do_not():
    from core.segmentation.alignment import align

    first, _ = _ham(TWO_PHOTOS[0])
    second, _ = _ham(TWO_PHOTOS[1])
    result = align(first, second)
    assert result.ok and result.correlation >= 0.5, result.message
    other, _ = _ham("ISIC_0024306")
    refused = align(first, other)
    assert not refused.ok and "could not align" in refused.message


@requires_segmenter
@requires_ham
def test_a_photo_compared_with_its_zoomed_copy_shows_no_change_but_a_grown_lesion_is_flagged(segmenter):
    from core.segmentation.change import compare_visits, visit

    image, _ = _ham(TWO_PHOTOS[0])
    probabilities = {"mel": 0.1, "nv": 0.9}
    zoomed = image.resize((512, 384)).rotate(12, expand=False, fillcolor=(0, 0, 0))
    same = compare_visits(visit(segmenter, image, probabilities, "first"), visit(segmenter, zoomed, probabilities, "zoomed"))
    assert same.alignment.ok, same.alignment.message
    assert abs(same.area_change) < 0.12 and same.outline_dice > 0.85 and not same.flags, same.rows()
    # The lesion photographed "later" at 1.3x its size on the same grid: the same skin no longer matches,
    # so a grown lesion is simulated by zooming only the lesion region into place.
    crop = image.crop((60, 40, 281, 216)).resize((287, 229))
    grown = image.copy()
    grown.paste(crop, (27, 14))
    change = compare_visits(visit(segmenter, image, probabilities, "first"),
                            visit(segmenter, grown, {"mel": 0.4, "nv": 0.6}, "later"))
    assert any("malignant probability rose" in f for f in change.flags)
    rows = {row[0]: row for row in change.rows()}
    assert rows["Model: mel"][3] == "+30%"


# --- training ----------------------------------------------------------------------------------------


@requires_ham
def test_training_runs_writes_a_loadable_checkpoint_and_resumes(tmp_path):
    out = tmp_path / "seg"
    common = ["train-segmenter", "--data", str(HAM_DIR), "--out", str(out), "--limit", "40", "--width", "64",
              "--height", "48", "--batch-size", "8", "--threads", "1"]
    r = _cli(*common, "--epochs", "1")
    assert r.returncode == 0, r.stderr
    r = _cli(*common, "--epochs", "2")
    assert r.returncode == 0 and "resuming after epoch 1" in r.stderr, r.stderr
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in log] == [1, 2] and all(0 <= e["val"]["ema"]["dice"] <= 1 for e in log)
    from core.segmentation.segmenter import Segmenter

    assert Segmenter.load(out).segment(skin_like()).mask.shape == (256, 341)
    r = _cli(*common[:-2], "--threads", "1", "--epochs", "3", "--lr", "0.01")
    assert r.returncode != 0 and "different configuration" in r.stderr
