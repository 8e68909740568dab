"""What the shipped classifier cannot do, in plain words: shown beside every prediction (app and reports)."""
from __future__ import annotations

MODEL_LIMITS: tuple[str, ...] = (
    "The model knows 7 classes only (akiec, bcc, bkl, df, mel, nv, vasc). It cannot recognise squamous cell "
    "carcinoma, Merkel cell carcinoma, inflammatory or infectious disease, and it will still name one of its 7 "
    "classes for such a lesion.",
    "It learned from HAM10000 dermoscopy images taken in Austria and Australia, mostly of fair skin. How well it "
    "works on darker skin, on ordinary (non-dermoscopic) photographs or on other devices is unknown.",
    "Its probabilities were calibrated on a validation split of the same data set; on other populations they "
    "may be too confident or not confident enough.",
    "A heatmap shows where the model found evidence for a class. It does not show that the prediction is right.",
)
