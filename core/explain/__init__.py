"""Explanations of the classifier: the CAM registry, faithfulness, localisation against lesion
masks, the validation-split evaluation and the pictures (overlays, mask outlines, figure grids)."""
