"""Lesion segmentation: where the lesion is in an image (a mask on the image's own pixel grid), what it measures
(ABCD features) and how it changed between visits."""
