"""Metadata fusion, the decision rule and the cross-validation behind the model-card figures, on data
with known answers."""
import numpy as np
import pytest

from core.vision.fusion import (
    AGE_BANDS,
    SITES,
    DecisionRule,
    MetadataFusion,
    PatientDetails,
    cross_validate,
    encode,
    feature_names,
    fit_decision_rule,
    fit_fusion,
    lesion_folds,
    prior_weights,
)
from core.vision.metrics import balanced_accuracy, softmax


def test_encoding_is_one_hot_with_a_not_given_column_per_field():
    names = feature_names()
    full = encode(PatientDetails(67, "female", "face"))
    assert full.sum() == 3 and len(full) == len(names)
    assert {names[i] for i in np.flatnonzero(full)} == {"age 60-74", "sex female", "site face"}
    empty = encode(PatientDetails())
    assert {names[i] for i in np.flatnonzero(empty)} == {"age not given", "sex not given", "site not given"}
    assert len(AGE_BANDS) + 1 + 3 + len(SITES) + 1 == len(names)


def test_clean_treats_out_of_vocabulary_values_as_not_given():
    assert PatientDetails.clean(None, "unknown", "unknown") == PatientDetails()
    assert PatientDetails.clean(float("nan"), "male", "back") == PatientDetails(None, "male", "back")
    assert PatientDetails.clean(250, "female", "moon") == PatientDetails(None, "female", None)
    assert PatientDetails(40, None, "scalp").given == ("age", "site")


def _synthetic(n: int = 1800, seed: int = 0):
    """Three classes; the image logits are informative, and class 2 mostly occurs on the face in older people."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, size=n, p=[0.7, 0.2, 0.1])
    logits = rng.normal(0, 1.0, (n, 3))
    logits[np.arange(n), y] += 1.2
    details = []
    for label in y:
        face = rng.random() < (0.8 if label == 2 else 0.1)
        age = rng.normal(75 if label == 2 else 40, 8)
        details.append(PatientDetails(float(np.clip(age, 1, 99)), str(rng.choice(["female", "male"])),
                                      "face" if face else "back"))
    return logits, details, y


def _nll(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, 1)).mean())


def test_fusion_uses_informative_metadata_and_falls_back_to_the_image_without_it():
    logits, details, y = _synthetic()
    train, test = slice(0, 1200), slice(1200, None)
    model = fit_fusion(logits[train], details[train], y[train], 3)
    fused = model.probabilities(logits[test], details[test])
    image = softmax(logits[test], model.temperature)
    assert _nll(fused, y[test]) < _nll(image, y[test]) - 0.05  # the face / age signal is learned
    nothing = [PatientDetails()] * len(image)
    bare = model.probabilities(logits[test], nothing)
    # With nothing given the fusion behaves like a regression fitted on the image alone (which also learns
    # the class prior that balanced training took out of the network), not like "unknown" meant in training.
    image_only = fit_fusion(logits[train], [PatientDetails()] * 1200, y[train], 3).probabilities(logits[test], nothing)
    assert np.abs(bare - image_only).max() < 0.1
    assert abs(_nll(bare, y[test]) - _nll(image_only, y[test])) < 0.02
    assert _nll(bare, y[test]) < _nll(image, y[test])
    # The image enters with one shared scale: the regression cannot re-rank image classes against each other.
    image_block = np.asarray(model.coef)[:, :3]
    np.testing.assert_allclose(image_block, image_block[0, 0] * np.eye(3), atol=1e-12)
    assert image_block[0, 0] > 0.5
    # The parameters survive the round trip through model.json.
    again = MetadataFusion.from_json(model.to_json())
    np.testing.assert_allclose(again.probabilities(logits[test], details[test]), fused)


def test_decision_rule_raises_rare_classes_only_as_far_as_it_helps():
    rng = np.random.default_rng(1)
    n = 3000
    y = rng.choice(3, size=n, p=[0.8, 0.15, 0.05])
    # Calibrated probabilities whose most probable class almost never is the rare class 2.
    logits = rng.normal(0, 1, (n, 3)) + np.log([0.8, 0.15, 0.05])
    logits[np.arange(n), y] += 1.5
    probs = softmax(logits)
    rule = fit_decision_rule(probs, y, 3)
    assert rule.weights[0] == 1.0  # the most frequent class is the reference
    assert rule.weights[2] > rule.weights[1] > 1.0  # the rarer the class, the more it is weighed up
    assert balanced_accuracy(y, rule.suggest(probs), 3) > balanced_accuracy(y, probs.argmax(1), 3) + 0.05
    # With alpha = 1 the weights are the inverse prior: 0.8 / 0.05 = 16 for the rarest class.
    assert prior_weights(y, 3, 1.0)[2] == pytest.approx(np.bincount(y)[0] / np.bincount(y)[2], rel=0.05)
    # Where the most probable class is already right, no correction is needed, and ties keep alpha nearest 1.
    perfect = np.eye(3)[y] * 0.9 + 0.1 / 3
    assert balanced_accuracy(y, fit_decision_rule(perfect, y, 3).suggest(perfect), 3) == 1.0
    assert DecisionRule((1.0, 1.0, 1.0)).suggest(probs).tolist() == probs.argmax(1).tolist()


def test_folds_keep_every_lesion_in_one_fold():
    rng = np.random.default_rng(2)
    lesions = [f"L{i // 3}" for i in range(600)]  # three images per lesion
    y = np.repeat(rng.choice(4, size=200), 3)
    folds = lesion_folds(lesions, y, n_folds=5, seed=7)
    assert set(folds) == set(range(5))
    for lesion in set(lesions):
        assert len({folds[i] for i, l in enumerate(lesions) if l == lesion}) == 1


def test_cross_validation_gives_out_of_fold_outputs_for_every_row():
    logits, details, y = _synthetic(900, seed=3)
    lesions = [f"L{i // 2}" for i in range(len(y))]
    cv = cross_validate(logits, details, y, lesions, 3, n_folds=4, seed=1)
    for probs in (cv.image, cv.fused, cv.fused_no_details):
        assert probs.shape == (len(y), 3) and np.allclose(probs.sum(1), 1)
    assert cv.fused_weights.shape == (len(y), 3)
    # Each fold's rule is one set of weights for all its rows.
    for k in range(4):
        assert len({tuple(w) for w in cv.fused_weights[cv.folds == k]}) == 1
    assert _nll(cv.fused, y) < _nll(cv.image, y)


def test_a_checkpoint_with_fusion_and_rule_suggests_by_the_rule(tmp_path):
    from core.vision.classifier import Classifier
    from core.vision.model import ModelMeta, build_model

    classes = ["akiec", "bcc", "bkl", "df", "mel", "nv", "vasc"]
    model = build_model("efficientnet_lite0", 7, pretrained=False)
    coef = np.zeros((7, 7 + len(feature_names())))
    coef[:, :7] = np.eye(7)  # fused probabilities = the image model's
    meta = ModelMeta("efficientnet_lite0", classes, 224, version="fusion-test",
                     fusion=MetadataFusion(1.0, tuple(map(tuple, coef)), (0.0,) * 7, 1.0).to_json(),
                     decision_weights=[1, 1, 1, 1, 40.0, 1, 1])
    classifier = Classifier(model, meta)
    logits = np.array([[0, 0, 0, 0, 0.0, 2.0, 0]])
    probs = classifier.calibrated(logits, [PatientDetails(50, "male", "back")])
    np.testing.assert_allclose(probs, softmax(logits), atol=1e-9)
    assert classifier.classes[int(classifier.suggest(probs)[0])] == "mel"  # 40 x p(mel) beats p(nv)
    features = np.zeros((1, model.fc.in_features))
    prediction = classifier._to_prediction(probs[0], features, PatientDetails(50, None, "back"))
    assert prediction.predicted == "mel" and prediction.most_probable == "nv"
    assert prediction.confidence == pytest.approx(probs[0, 4]) and prediction.details_used == ("age", "site")
