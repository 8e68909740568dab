"""CAMs through the registry: shapes and ranges for every method, the shared forward pass against the
library, faithfulness metrics, the explain and explain-eval commands, and tests that fail when the
target layer, the target class or the up-sampling is wrong."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageOps

from core.vision.classifier import Classifier
from core.vision.data import lesion_split, mask_path, read_metadata, image_path
from core.explain import library
from core.explain.cams import CAM_METHODS, Explanation, explain, explain_many, explain_prepared, target_layer
from core.explain.faithfulness import Faithfulness, FaithfulnessError, class_phrase, faithfulness, view_to_image
from core.vision.imaging import load_image
from core.vision.transforms import Prepared, normalize
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from tests.support import HAM_DIR, MODEL_DIR, requires_ham, requires_model, skin_like

pytestmark = requires_model


@pytest.fixture(scope="module")
def classifier():
    # One intra-op thread, as in conftest: on the busy 2-core machine two threads ran the many small
    # batches of Score-CAM about 3x slower.
    torch.set_num_threads(1)
    return Classifier.load(MODEL_DIR)


@pytest.mark.parametrize("method", sorted(set(CAM_METHODS) - {"scorecam", "ablationcam"}))
def test_every_fast_method_returns_an_image_sized_map(classifier, method):
    image = skin_like(300, 200)
    result = explain(classifier, image, method, target="mel")
    assert result.heatmap.shape == (200, 300)
    assert result.heatmap.dtype == np.float32
    assert 0.0 <= result.heatmap.min() and result.heatmap.max() <= 1.0


def test_unknown_method_and_target_are_refused(classifier):
    with pytest.raises(ValueError, match="unknown CAM method"):
        explain(classifier, skin_like(), "magic")
    with pytest.raises(ValueError, match="unknown target"):
        explain(classifier, skin_like(), "gradcam", target="psoriasis")


@requires_ham
def test_heatmap_follows_a_flip_of_the_image(classifier):
    """A mis-registered up-sampling or crop mapping would break this symmetry. The network is not
    exactly flip-equivariant, so the test compares the re-aligned map with a mis-aligned one."""
    records = read_metadata(HAM_DIR)[:3]
    aligned_scores = []
    for rec in records:
        image = load_image(image_path(HAM_DIR, rec.image_id)).image
        target = classifier.predict(image).predicted
        plain = explain(classifier, image, "gradcam", target).heatmap
        flipped = explain(classifier, ImageOps.mirror(image), "gradcam", target).heatmap
        aligned = np.corrcoef(plain.ravel(), flipped[:, ::-1].ravel())[0, 1]
        misaligned = np.corrcoef(plain.ravel(), flipped.ravel())[0, 1]
        assert aligned > misaligned + 0.2, (rec.image_id, aligned, misaligned)
        aligned_scores.append(aligned)
    assert np.mean(aligned_scores) > 0.7


@requires_ham
def test_heatmap_energy_falls_on_the_lesion_more_than_uniform(classifier):
    """With the real checkpoint, the heatmap of the true class concentrates inside the lesion mask.
    A wrong target layer, class or up-sampling brings this down to the uniform baseline."""
    records = read_metadata(HAM_DIR)
    _, val = lesion_split(records)
    picked = [r for r in val if r.dx != "nv"][:8] + [r for r in val if r.dx == "nv"][:4]
    inside, uniform = [], []
    for rec in picked:
        image = load_image(image_path(HAM_DIR, rec.image_id)).image
        mask = np.asarray(Image.open(mask_path(HAM_DIR, rec.image_id))) > 127
        if mask.all() or not mask.any():
            continue
        heat = explain(classifier, image, "gradcam", rec.dx).heatmap
        inside.append(heat[mask].sum() / max(heat.sum(), 1e-9))
        uniform.append(mask.mean())
    assert len(inside) >= 8
    assert np.mean(inside) > np.mean(uniform) + 0.1


# --- Shared forward pass, slow methods, smoothing ------------------------------------------------

SHARED = [m for m, spec in CAM_METHODS.items() if spec.shares_pass]


@pytest.fixture(scope="module")
def prepared(classifier):
    return classifier.prepare(skin_like(341, 256, seed=3))


@pytest.mark.parametrize("method", SHARED)
def test_shared_pass_gives_exactly_the_library_map(classifier, prepared, method):
    """The maps derived from one shared forward pass equal the library's own cam(...) call."""
    spec = CAM_METHODS[method]
    ours = {e.target: e for e in explain_many(classifier, prepared, [method], ["mel", "nv"])}
    for target, explanation in ours.items():
        with library.cam_class(spec)(model=classifier.model, target_layers=[target_layer(classifier)]) as cam:
            reference = cam(input_tensor=prepared.tensor.unsqueeze(0),
                            targets=[ClassifierOutputTarget(classifier.classes.index(target))])[0]
        np.testing.assert_allclose(explanation.model_grid, np.clip(reference, 0, 1), atol=1e-5)


def test_explain_many_orders_results_and_defaults_to_the_top_class(classifier, prepared):
    results = explain_many(classifier, prepared, ["gradcam", "eigencam"], [None, "df"])
    top = classifier.classes[int(np.argmax(classifier.logits(prepared.tensor.unsqueeze(0), tta=False)[0]))]
    assert [(e.method, e.target) for e in results] == [("gradcam", top), ("gradcam", "df"),
                                                       ("eigencam", top), ("eigencam", "df")]
    assert all(e.seconds > 0 for e in results)
    single = explain_prepared(classifier, prepared, "gradcam", "df")
    np.testing.assert_array_equal(single.heatmap, results[1].heatmap)
    # Grad-CAM depends on the class; EigenCAM (no gradients) does not.
    assert not np.allclose(results[0].model_grid, results[1].model_grid)
    np.testing.assert_array_equal(results[2].model_grid, results[3].model_grid)
    with pytest.raises(ValueError, match="no CAM method"):
        explain_many(classifier, prepared, [], [None])


def test_gradient_weightings_coincide_at_the_layer_before_global_pooling(classifier, prepared):
    """The target layer feeds global average pooling and a linear head, so a class score's gradient is
    the same at every position: Grad-CAM, HiResCAM and XGrad-CAM must then give one map (what the
    explain-eval table shows). An earlier target layer, or a head that is not linear, breaks this."""
    maps = {e.method: e.model_grid for e in explain_many(classifier, prepared, ["gradcam", "hirescam", "xgradcam",
                                                                                "gradcam++"], ["mel"])}
    np.testing.assert_allclose(maps["hirescam"], maps["gradcam"], atol=1e-5)
    np.testing.assert_allclose(maps["xgradcam"], maps["gradcam"], atol=1e-5)
    assert not np.allclose(maps["gradcam++"], maps["gradcam"], atol=1e-3)  # its weights are not the mean gradient


@pytest.fixture(scope="module")
def tiny(classifier):
    """A 48x40 input prepared without resizing: a 2x2 feature grid, so per-channel methods stay quick."""
    small = skin_like(48, 40, seed=4)
    return Prepared(normalize(classifier.meta.mean, classifier.meta.std)(small), (0, 0, 48, 40), small.size)


@pytest.mark.parametrize("method", ["scorecam", "ablationcam"])
def test_slow_methods_return_an_image_sized_map(classifier, tiny, method):
    """Score-CAM and Ablation-CAM run one forward pass per channel (batched)."""
    result = explain_prepared(classifier, tiny, method, "mel")
    assert result.heatmap.shape == (40, 48) and result.heatmap.dtype == np.float32
    assert 0.0 <= result.heatmap.min() and result.heatmap.max() <= 1.0
    assert result.heatmap.max() > 0  # the fixture image has a lesion-like blob to respond to
    assert classifier.model.act.__class__.__name__ == "ReLU6"  # Ablation-CAM put the target layer back


def test_smoothing_options(classifier, tiny):
    plain = explain_prepared(classifier, tiny, "gradcam", None)
    assert plain.model_grid.max() > 0
    for options in ({"eigen_smooth": True}, {"aug_smooth": True}):
        smoothed = explain_prepared(classifier, tiny, "gradcam", plain.target, **options)
        assert smoothed.heatmap.shape == plain.heatmap.shape
        assert 0.0 <= smoothed.heatmap.min() and smoothed.heatmap.max() <= 1.0
        assert not np.allclose(smoothed.model_grid, plain.model_grid), options


# --- Faithfulness --------------------------------------------------------------------------------


def test_faithfulness_values_are_probabilities_and_reproducible(classifier, prepared):
    explanation = explain_prepared(classifier, prepared, "gradcam", None)
    result = faithfulness(classifier, prepared, explanation)
    calibrated = classifier.calibrated(classifier.logits(prepared.tensor.unsqueeze(0), tta=False))[0]
    assert result.probability == pytest.approx(calibrated[classifier.classes.index(explanation.target)], abs=1e-5)
    for value in (result.without_most_relevant, result.without_least_relevant, result.highlighted_only):
        assert 0.0 <= value <= 1.0
    again = faithfulness(classifier, prepared, explanation)
    assert again.without_most_relevant == result.without_most_relevant  # the imputer's noise is seeded
    assert "20\u00a0%" in result.reading and class_phrase(explanation.target) in result.reading


def test_road_removes_exactly_the_asked_share_from_the_right_end(classifier, prepared):
    """Guards the library's percentile convention: MoRF imputes the top 20 %, LeRF the bottom 20 %."""
    h, w = prepared.tensor.shape[-2:]
    ramp = np.tile(np.linspace(0, 1, w, dtype=np.float32), (h, 1))  # relevance grows left to right
    explanation = Explanation(heatmap=ramp, method="gradcam", target="mel", model_grid=ramp)
    result = faithfulness(classifier, prepared, explanation, 0.2, keep_views=True)
    original = prepared.tensor.numpy()
    for view, region in (("without_most_relevant", ramp >= np.quantile(ramp, 0.8)),
                         ("without_least_relevant", ramp <= np.quantile(ramp, 0.2))):
        changed = np.abs(result.views[view] - original).max(0) > 0
        assert changed.mean() == pytest.approx(0.2, abs=0.01), view
        assert (changed & region).sum() / changed.sum() > 0.97, view
    assert view_to_image(result.views["highlighted_only"], classifier.meta.mean,
                         classifier.meta.std).shape == (h, w, 3)


def test_faithfulness_refuses_empty_maps_and_bad_fractions(classifier, prepared):
    h, w = prepared.tensor.shape[-2:]
    empty = np.zeros((h, w), np.float32)
    with pytest.raises(FaithfulnessError, match="empty"):
        faithfulness(classifier, prepared, Explanation(empty, "gradcam", "mel", model_grid=empty))
    explanation = explain_prepared(classifier, prepared, "gradcam", None)
    with pytest.raises(FaithfulnessError, match="fraction"):
        faithfulness(classifier, prepared, explanation, fraction=1.5)


def test_plain_reading_wording():
    strong = Faithfulness("gradcam", "mel", 0.2, 0.62, 0.37, 0.60, 0.55)
    # Percent signs are joined to their numbers by a no-break space, so a line never wraps between them.
    assert strong.reading.replace("\u00a0", " ").startswith(
        "Removing the most relevant 20 % drops the melanoma probability by 40 % (62 % → 37 %)")
    assert "matters more to the model than the rest" in strong.reading
    backwards = Faithfulness("gradcam", "mel", 0.2, 0.62, 0.60, 0.30, 0.55)
    assert "distrust this map" in backwards.reading
    negligible = Faithfulness("gradcam", "df", 0.2, 0.002, 0.001, 0.002, 0.001)
    assert "almost no probability" in negligible.reading
    # Found in the real-browser walk: removing the most relevant part RAISED the probability, yet the reading
    # said the highlighted region mattered more; and "raises it by 1989 % (2 % → 38 %)".
    contradicted = Faithfulness("gradcam", "mel", 0.2, 0.30, 0.35, 0.50, 0.20)
    assert "did not lower the probability" in contradicted.reading and "matters more" not in contradicted.reading
    tiny = Faithfulness("gradcam", "vasc", 0.2, 0.02, 0.38, 0.01, 0.05)
    assert "from 2\u00a0% to 38\u00a0%" in tiny.reading and "1889" not in tiny.reading and "1800" not in tiny.reading


@requires_ham
def test_removing_the_highlighted_region_hurts_more_than_removing_the_rest(classifier):
    """ROAD with the real checkpoint: on average over real validation images, the Grad-CAM region of the
    true class matters more than the least relevant region. A swapped convention or wrong class breaks this."""
    _, val = lesion_split(read_metadata(HAM_DIR))
    gaps = []
    for rec in [r for r in val if r.dx != "nv"][:6]:
        prepared = classifier.prepare(load_image(image_path(HAM_DIR, rec.image_id)).image)
        explanation = explain_prepared(classifier, prepared, "gradcam", rec.dx)
        if explanation.model_grid.max() > 0:
            gaps.append(faithfulness(classifier, prepared, explanation).road_gap)
    assert len(gaps) >= 4
    assert np.mean(gaps) > 0.1


# --- CLI -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", sorted(CAM_METHODS))
def test_explain_command_accepts_every_registered_method(method):
    from core.cli import build_parser

    args = build_parser().parse_args(["explain", "x.jpg", "--method", method, "--out-dir", "out"])
    assert args.method == method and args.func.__name__ == "_explain"


def test_explain_command_runs_a_non_default_method(tmp_path):
    from core.cli import main

    skin_like(120, 90, seed=5).save(tmp_path / "lesion.png")
    assert main(["explain", str(tmp_path / "lesion.png"), "--method", "layercam", "--target", "bcc",
                 "--out-dir", str(tmp_path / "cams"), "--model-dir", str(MODEL_DIR)]) == 0
    heat = np.load(tmp_path / "cams" / "lesion.npy")
    assert heat.shape == (90, 120) and 0 <= heat.min() and heat.max() <= 1


def _ham_folder(root):
    """A tiny HAM10000-format folder: two usable images, a whole-frame mask, a missing mask, a broken image."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rows = ["lesion_id,image_id,dx", "L1,IMG_a,mel", "L2,IMG_b,nv", "L3,IMG_c,nv", "L4,IMG_d,bkl", "L5,IMG_e,bcc"]
    (root / "metadata.csv").write_text("\n".join(rows) + "\n")
    yy, xx = np.mgrid[0:96, 0:128]
    blob = ((xx - 64) ** 2 / 32**2 + (yy - 48) ** 2 / 24**2) < 1
    for i, image_id in enumerate(["IMG_a", "IMG_b", "IMG_c", "IMG_d"]):
        skin_like(128, 96, seed=10 + i).save(root / "images" / f"{image_id}.jpg")
    for image_id in ("IMG_a", "IMG_b"):
        Image.fromarray((blob * 255).astype(np.uint8)).save(root / "masks" / f"{image_id}.png")
    Image.fromarray(np.full((96, 128), 255, np.uint8)).save(root / "masks" / "IMG_c.png")
    (root / "images" / "IMG_e.jpg").write_bytes(b"not a jpeg")
    return root


def test_explain_eval_contract(tmp_path):
    import json

    from tests.test_cli_classifier import run_core

    folder = _ham_folder(tmp_path / "ham")
    report = tmp_path / "report.json"
    r = run_core("explain-eval", "--data", str(folder), "--methods", "gradcam,eigencam", "--split", "all",
                 "--json", str(report), "--worst", "1", "--sheet", str(tmp_path / "sheet.png"), "--faithfulness", "--quiet", "--model-dir", str(MODEL_DIR))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    out = r.stdout
    assert "5 images selected, 2 scored" in out
    assert "mask covers the whole frame: 1" in out and "no mask file: 1" in out and "image unreadable" in out
    for row in ("| Grad-CAM | 2 |", "| EigenCAM | 2 |", "| uniform (baseline) | 2 |", "| centre-gaussian (baseline) | 2 |"):
        assert row in out, out
    assert "by true class" in out and "mel (n=1)" in out and "nv (n=1)" in out
    data = json.loads(report.read_text())
    uniform = next(row for row in data["rows"] if row["name"] == "uniform")
    coverage = np.mean([np.asarray(Image.open(folder / "masks" / "IMG_a.png")).astype(bool).mean()])
    assert uniform["summary"]["all"]["energy_inside"] == pytest.approx(coverage, abs=1e-6)
    assert [img["image_id"] for img in data["images"]] == ["IMG_a", "IMG_b"]
    assert "Against the centre prior" in out
    # The paired difference is the per-image difference of the two rows' scores.
    paired = data["paired"]["gradcam"]["all"]["energy_inside"]
    images = data["images"]
    expected = np.mean([img["gradcam"]["energy_inside"] - img["centre-gaussian"]["energy_inside"] for img in images])
    assert paired["n"] == 2 and paired["mean_difference"] == pytest.approx(expected)
    assert {"prediction right", "prediction wrong"} <= set(data["paired"]["eigencam"])
    # Faithfulness: every heatmap and the centre prior, measured on both scored images.
    assert "Faithfulness (pytorch-grad-cam ROAD" in out and "| centre-gaussian (baseline) | 2 |" in out
    summary = data["faithfulness"]
    assert set(summary) == {"gradcam", "eigencam", "centre-gaussian"}
    for name, row in summary.items():
        per_map = [img["faithfulness"][name] for img in images]
        assert row["n"] == 2 and all(0 <= m[k] <= 1 for m in per_map for k in ("probability", "without_most_relevant",
                                                                              "without_least_relevant", "highlighted_only"))
        assert row["road_gap"] == pytest.approx(np.mean([m["road_gap"] for m in per_map]))
    assert summary["centre-gaussian"]["gap_vs_centre"]["mean_difference"] == pytest.approx(0.0)
    with Image.open(tmp_path / "sheet.png") as sheet:  # one tile: the worst image with its map and mask
        assert sheet.format == "PNG" and sheet.width == 300 + 2 * 12


def test_explain_eval_refuses_bad_arguments(tmp_path, capsys):
    from core.cli import main

    folder = _ham_folder(tmp_path / "ham")
    assert main(["explain-eval", "--data", str(folder), "--methods", "gradcam,magic"]) == 2
    assert "unknown method 'magic'" in capsys.readouterr().err
    assert main(["explain-eval", "--data", str(tmp_path / "nowhere"), "--methods", "gradcam"]) == 2
    assert "metadata.csv" in capsys.readouterr().err
    assert main(["explain-eval", "--data", str(folder), "--threshold", "0"]) == 2
    assert "--threshold" in capsys.readouterr().err
    assert main(["explain-eval", "--data", str(folder), "--limit", "-1"]) == 2
    assert "--limit must be 0 or more" in capsys.readouterr().err
    assert main(["explain-eval", "--data", str(folder), "--sheet", str(tmp_path / "s.png")]) == 2
    assert "give --worst N" in capsys.readouterr().err
    assert main(["explain-eval", "--data", str(folder), "--json", str(tmp_path / "no" / "such" / "r.json")]) == 2
    assert "not a file in an existing folder" in capsys.readouterr().err
