"""Metrics with answers worked out by hand."""
import numpy as np
import pytest

from core.vision.metrics import (
    balanced_accuracy,
    binary_auc,
    classification_report,
    confusion_matrix,
    expected_calibration_error,
    fit_temperature,
    softmax,
)


def test_confusion_and_balanced_accuracy():
    y = np.array([0, 0, 0, 0, 1, 1])
    p = np.array([0, 0, 0, 1, 1, 0])
    assert confusion_matrix(y, p, 2).tolist() == [[3, 1], [1, 1]]
    assert balanced_accuracy(y, p, 2) == pytest.approx((0.75 + 0.5) / 2)


def test_auc_known_values_and_ties():
    assert binary_auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == pytest.approx(0.75)
    assert binary_auc(np.array([0.5, 0.5]), np.array([0, 1])) == pytest.approx(0.5)
    assert np.isnan(binary_auc(np.array([0.1, 0.2]), np.array([0, 0])))


def test_ece_zero_when_confidence_matches_accuracy():
    probs = np.array([[0.75, 0.25]] * 4)
    assert expected_calibration_error(np.array([0, 0, 0, 1]), probs) == pytest.approx(0.0)
    assert expected_calibration_error(np.array([1, 1, 1, 1]), probs) == pytest.approx(0.75)


def test_temperature_recovers_the_generating_temperature():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(0, 2, (4000, 5))
    y = np.array([rng.choice(5, p=row) for row in softmax(true_logits)])
    overconfident = true_logits * 2.5  # what an over-confident network would output
    t = fit_temperature(overconfident, y)
    assert t == pytest.approx(2.5, rel=0.1)
    before = expected_calibration_error(y, softmax(overconfident))
    after = expected_calibration_error(y, softmax(overconfident, t))
    assert after < before / 2


def test_report_has_per_class_and_melanoma():
    classes = ["mel", "nv"]
    y = np.array([0, 0, 1, 1, 1])
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    r = classification_report(y, probs, classes)
    assert r["melanoma"]["sensitivity"] == pytest.approx(0.5)
    assert r["melanoma"]["specificity"] == pytest.approx(2 / 3)
    assert r["per_class"]["nv"]["precision"] == pytest.approx(2 / 3)
