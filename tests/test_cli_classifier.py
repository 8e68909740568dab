"""The stable CLI contracts of predict, explain and evaluate, run as real subprocesses."""
import csv
import os
import subprocess
import sys

import numpy as np
import pytest

from core.config import CLASSES
from tests.support import HAM_DIR, ROOT, minimal_pdf, requires_ham, requires_model, skin_like

pytestmark = requires_model


def run_core(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    skin_like(341, 256, seed=1).save(folder / "lesion_a.jpg")
    skin_like(640, 200, seed=2).save(folder / "wide_b.png")  # wider than 4:3: exercises the crop mapping
    (folder / "notes_c.jpg").write_bytes(b"not an image at all")
    (folder / "report_d.pdf").write_bytes(minimal_pdf())  # not an image suffix: ignored in folders
    (folder / "empty_e.jpg").write_bytes(b"")
    return folder


def test_predict_contract(image_folder, tmp_path):
    out = tmp_path / "preds.csv"
    result = run_core("predict", str(image_folder), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "notes_c.jpg" in result.stderr and "empty_e.jpg" in result.stderr  # reported by name
    assert "Traceback" not in result.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0].keys()) == ["image_id", *CLASSES, "predicted"]
    assert [r["image_id"] for r in rows] == ["lesion_a", "wide_b"]
    for row in rows:
        probs = np.array([float(row[c]) for c in CLASSES])
        assert probs.sum() == pytest.approx(1.0, abs=1e-4)
        assert (probs >= 0).all()
        assert row["predicted"] == CLASSES[int(probs.argmax())]


def test_predict_single_file_and_only_bad_files(image_folder, tmp_path):
    out = tmp_path / "one.csv"
    assert run_core("predict", str(image_folder / "lesion_a.jpg"), "--out", str(out)).returncode == 0
    assert len(list(csv.DictReader(out.open()))) == 1
    bad = run_core("predict", str(image_folder / "notes_c.jpg"), "--out", str(tmp_path / "none.csv"))
    assert bad.returncode != 0 and "notes_c.jpg" in bad.stderr and "Traceback" not in bad.stderr


def test_explain_contract(image_folder, tmp_path):
    out_dir = tmp_path / "cams"
    result = run_core("explain", str(image_folder), "--method", "gradcam", "--target", "predicted", "--out-dir", str(out_dir))
    assert result.returncode == 0, result.stderr
    for name, size in (("lesion_a", (341, 256)), ("wide_b", (640, 200))):
        heatmap = np.load(out_dir / f"{name}.npy")
        assert heatmap.dtype == np.float32
        assert heatmap.shape == (size[1], size[0])
        assert heatmap.min() >= 0.0 and heatmap.max() <= 1.0
    wide = np.load(out_dir / "wide_b.npy")
    assert wide[:, :10].max() == 0.0  # the crop cut the far left and right: no evidence is placed there


def test_explain_rejects_unknown_method_and_class(image_folder, tmp_path):
    r = run_core("explain", str(image_folder / "lesion_a.jpg"), "--method", "magic", "--out-dir", str(tmp_path))
    assert r.returncode == 2 and "unknown method" in r.stderr
    r = run_core("explain", str(image_folder / "lesion_a.jpg"), "--target", "psoriasis", "--out-dir", str(tmp_path))
    assert r.returncode == 2 and "unknown target" in r.stderr


@requires_ham
def test_evaluate_prints_model_card_metrics():
    r = run_core("evaluate", "--data", str(HAM_DIR), "--limit", "24")
    assert r.returncode == 0, r.stderr
    for needle in ("balanced accuracy", "melanoma sensitivity", "Confusion matrix", "ECE", "by localization", "by sex", "by age band"):
        assert needle in r.stdout


def test_missing_model_dir_is_a_clear_error(image_folder, tmp_path):
    r = run_core("predict", str(image_folder / "lesion_a.jpg"), "--out", str(tmp_path / "x.csv"), "--model-dir", str(tmp_path))
    assert r.returncode == 2 and "No trained model" in r.stderr and "Traceback" not in r.stderr


def test_a_file_name_that_is_not_utf8_does_not_stop_the_run(tmp_path):
    """Found by the hostile-input campaign: bytes like b'l\xe9sion.jpg' crashed the CSV writer mid-run."""
    folder = tmp_path / "in"
    folder.mkdir()
    odd = os.fsdecode(b"l\xe9sion.jpg")  # a Latin-1 name on a UTF-8 file system
    skin_like(120, 90, seed=3).save(folder / odd)
    skin_like(120, 90, seed=4).save(folder / "zz_after.jpg")
    out = tmp_path / "p.csv"
    result = run_core("predict", str(folder), "--out", str(out), "--batch-size", "1")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    ids = [row["image_id"] for row in csv.DictReader(out.open(encoding="utf-8"))]
    assert ids == ["l\\xe9sion", "zz_after"]  # the odd bytes escaped, the later file still written


def test_images_sharing_a_stem_get_distinct_ids_rows_and_heatmaps(tmp_path):
    """Found by the hostile-input campaign: x.jpg and x.png gave two rows with one id (and one .npy overwrote the other)."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    skin_like(120, 90, seed=5).save(first / "x.jpg")
    skin_like(120, 90, seed=6).save(first / "x.png")
    skin_like(120, 90, seed=7).save(second / "x.png")
    skin_like(120, 90, seed=8).save(second / "y.jpg")
    out, heatmaps = tmp_path / "p.csv", tmp_path / "h"
    result = run_core("analyse", str(first), str(second), str(second / "y.jpg"), "--out", str(out),
                      "--heatmaps", str(heatmaps))
    assert result.returncode == 0, result.stderr
    ids = [row["image_id"] for row in csv.DictReader(out.open(encoding="utf-8"))]
    assert ids == ["x.jpg", "x.png", "x.png~2", "y"]  # y.jpg given twice is analysed once
    assert sorted(p.stem for p in heatmaps.glob("*.npy")) == sorted(ids)
    assert result.stderr.count("shares its name") == 3


@requires_ham
def test_train_refuses_an_init_from_folder_without_a_checkpoint_before_decoding(tmp_path):
    result = run_core("train", "--data", str(HAM_DIR), "--out", str(tmp_path / "run"), "--init-from",
                      str(tmp_path / "nothing-here"), "--limit", "40", "--epochs", "1")
    assert result.returncode == 2 and "No trained model in" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "decoded images" not in result.stderr


@requires_model
@requires_ham
def test_train_from_a_checkpoint_records_where_it_started(tmp_path):
    import json

    out = tmp_path / "run"
    result = run_core("train", "--data", str(HAM_DIR), "--out", str(out), "--init-from", str(ROOT / "models" /
                      "dermadesk-classifier"), "--limit", "48", "--epochs", "1", "--batch-size", "16",
                      "--input-size", "192", "--precision", "fp32")
    # The first 48 records lack some classes: their loss weight must be 0, not inf (the loss went NaN and the
    # closing calibration crashed).
    assert result.returncode == 0, result.stderr[-2000:]
    assert "train loss nan" not in result.stderr
    assert "starting from the weights of" in result.stderr
    meta = json.loads((out / "model.json").read_text())
    assert meta["input_size"] == 192
    assert meta["training"]["config"]["init_from"].endswith("dermadesk-classifier")
