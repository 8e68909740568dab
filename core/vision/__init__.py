"""Lesion images and the classifier: safe decoding, transforms, the backbone registry, training,
calibration, inference, the out-of-distribution check, HAM10000 data and model-card metrics."""
