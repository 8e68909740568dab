"""Risk tiers read from the calibrated probabilities and the escalation thresholds."""
from core.config import CLASSES
from core.vision.classifier import Prediction
from core.vision.risk import risk_tier

THRESHOLDS = {"akiec": 0.04, "bcc": 0.05, "mel": 0.04}
METRICS = {"escalation": {"any_malignant": {"sensitivity": 0.938, "specificity": 0.72}}}


def _prediction(probabilities: dict[str, float], predicted: str) -> Prediction:
    full = {c: probabilities.get(c, 0.0) for c in CLASSES}
    return Prediction(full, predicted, full[predicted], False, "test")


def test_suggested_malignant_class_is_high_concern():
    tier = risk_tier(_prediction({"mel": 0.55, "nv": 0.45}, "mel"), THRESHOLDS, METRICS)
    assert tier.key == "high" and "mel" in tier.meaning


def test_a_malignant_class_over_its_threshold_is_intermediate():
    tier = risk_tier(_prediction({"nv": 0.9, "mel": 0.06, "bkl": 0.04}, "nv"), THRESHOLDS, METRICS)
    assert tier.key == "intermediate" and "mel 6%" in tier.meaning


def test_below_every_threshold_is_low_but_not_called_benign():
    tier = risk_tier(_prediction({"nv": 0.97, "mel": 0.01, "bkl": 0.02}, "nv"), THRESHOLDS, METRICS)
    assert tier.key == "low" and "not benign" in tier.meaning and "6%" in tier.meaning
    assert "fell in this tier" not in risk_tier(_prediction({"nv": 1.0}, "nv"), THRESHOLDS, {}).meaning


def test_close_calls_between_the_two_leading_classes_are_named():
    from dashboard.components import close_call

    assert "Close call" in close_call(_prediction({"mel": 0.53, "nv": 0.41, "bkl": 0.06}, "mel"))
    assert close_call(_prediction({"nv": 0.80, "mel": 0.15, "bkl": 0.05}, "nv")) is None
