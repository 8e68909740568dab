"""Risk tier: the calibrated probabilities read against the malignancy escalation thresholds, in three
words a clinician can act on, with what each tier meant on the validation split."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.config import MALIGNANT
from core.vision.classifier import Prediction


@dataclass(frozen=True)
class RiskTier:
    key: str  # "high", "intermediate" or "low"
    label: str
    meaning: str  # how the tier was set, and what it leaves out


def risk_tier(prediction: Prediction, thresholds: Mapping[str, float], metrics: Mapping | None = None) -> RiskTier:
    """High concern: the suggested class is malignant. Intermediate: a malignant class reaches its escalation
    threshold (the case is marked urgent). Low: below every threshold, which is not the same as benign: the
    share of malignant validation images that fell there is stated when the checkpoint records it."""
    crossed = [c for c, t in thresholds.items() if prediction.probabilities.get(c, 0.0) >= t]
    if prediction.predicted in MALIGNANT:
        return RiskTier("high", "High concern",
                        f"The suggested class, {prediction.predicted}, is malignant "
                        f"({prediction.confidence:.0%}).")
    if crossed:
        names = ", ".join(f"{c} {prediction.probabilities[c]:.0%} (threshold {thresholds[c]:.0%})" for c in crossed)
        return RiskTier("intermediate", "Intermediate concern",
                        f"A malignant class reaches its escalation threshold: {names}. The thresholds are set low "
                        "on purpose, so that about 9 in 10 malignant lesions reach one.")
    overall = ((metrics or {}).get("escalation") or {}).get("any_malignant") or {}
    missed = 1.0 - float(overall["sensitivity"]) if "sensitivity" in overall else None
    residual = (f" On the validation split {missed:.0%} of malignant images fell in this tier too." if missed is not None
                else "")
    return RiskTier("low", "Low concern",
                    "No malignant class reaches its escalation threshold. Low is not benign." + residual)
