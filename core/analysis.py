"""Analyse one lesion image: the single use-case behind the analysis page, batch analysis, the case
workflow and the command line.

    analysis = analyse(upload_bytes, classifier, settings, note="changed over 3 months",
                       heatmaps=HeatmapRequest("gradcam", top=3))
    analysis.red_flags.level        # "emergency" | "urgent" | "routine": note, checklist, classifier
    analysis.prediction.ranked()    # calibrated probabilities
    analysis.heatmap()              # the predicted class's heatmap on the image's pixel grid
    analysis.placement()            # with a segmenter: is that heatmap on the lesion outline?

Red flags always combine the clinical note, the NICE 7-point checklist and the classifier's own
escalation thresholds; the classifier escalates nothing for an image that does not look like dermoscopy.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.config import INFERENCE_BATCH, Settings
from core.text import storable
from core.explain.methods import CAM_EQUIVALENT
from core.triage import Assessment, Finding, TriageInputError, assess, classifier_finding, combine
from core.triage.checklist import ChecklistResult, checklist_finding
from core.vision.fusion import PatientDetails
from core.vision.imaging import DecodedImage, decode_image
from core.vision.quality import ImageQuality, assess_quality

if TYPE_CHECKING:
    from core.cases.records import NewCase
    from core.explain.cams import Explanation
    from core.explain.placement import HeatmapPlacement
    from core.segmentation.abcd import ABCD
    from core.segmentation.segmenter import LesionMask, Segmenter
    from core.vision.classifier import Classifier, Prediction
    from core.vision.model import ModelMeta


@dataclass(frozen=True)
class HeatmapRequest:
    """Which heatmaps to compute: `method` (a `core.explain.cams.CAM_METHODS` key) for the named
    `classes`, plus the `top` most probable classes; with neither, the predicted class."""

    method: str = "gradcam"
    classes: tuple[str, ...] = ()
    top: int = 0

    def targets(self, prediction: Prediction) -> list[str]:
        ranked = [c for c, _ in prediction.ranked()]
        wanted = list(self.classes) + ranked[: self.top]
        if not wanted:
            wanted = [prediction.predicted]
        return list(dict.fromkeys(wanted))


@dataclass(frozen=True)
class CurrentCase:
    """The analysis on screen, as other pages (the chat's "use current case") see it."""

    image_name: str
    predicted: str
    probabilities: dict[str, float]
    model_version: str


@dataclass(frozen=True)
class Analysis:
    image: DecodedImage
    prediction: Prediction
    red_flags: Assessment  # note + checklist + classifier, most severe first
    note: str = ""
    note_problem: str | None = None  # why the note could not be read for red flags (e.g. too long)
    checklist: ChecklistResult | None = None
    details: PatientDetails = field(default_factory=PatientDetails)
    heatmaps: tuple[Explanation, ...] = ()
    lesion: LesionMask | None = None  # the segmenter's outline; None when no segmenter is installed
    quality: ImageQuality | None = None  # sharpness and exposure (core.vision.quality)

    @property
    def model_version(self) -> str:
        return self.prediction.model_version

    def placement(self, target: str | None = None) -> HeatmapPlacement | None:
        """Where `target`'s heatmap (default: the predicted class) falls relative to the lesion outline; None
        without an outline or that heatmap."""
        from core.explain.placement import place

        heatmap = self.heatmap(target)
        if self.lesion is None or heatmap is None:
            return None
        problem = self.lesion.problem
        if self.prediction.out_of_distribution:
            problem = "the image does not look like a dermoscopy photo"
        return place(heatmap.heatmap, self.lesion.mask, problem)

    def measurements(self, field_of_view_mm: float | None = None) -> ABCD | None:
        """ABCD measurements of the outlined lesion; None when there is no usable outline."""
        from core.segmentation.abcd import measure

        if self.lesion is None or not self.lesion.usable or self.prediction.out_of_distribution:
            return None
        return measure(self.image.image, self.lesion.mask, field_of_view_mm)

    def heatmap(self, target: str | None = None) -> Explanation | None:
        """The heatmap of `target` (default: the predicted class), or None if it was not requested."""
        target = target or self.prediction.predicted
        return next((h for h in self.heatmaps if h.target == target), None)

    def current_case(self, image_name: str) -> CurrentCase:
        return CurrentCase(image_name, self.prediction.predicted, dict(self.prediction.probabilities),
                           self.model_version)

    def new_case(self, *, source_name: str = "", heatmap_target: str | None = None,
                 lesion_id: str | None = None) -> NewCase:
        """This analysis as a case to save, with the heatmap of `heatmap_target` (default: predicted class)."""
        from core.cases.records import NewCase

        heatmap = self.heatmap(heatmap_target)
        return NewCase(
            image=self.image.image, prediction=self.prediction, source_name=source_name,
            source_format=self.image.source_format,
            heatmap=heatmap.heatmap if heatmap is not None else None,
            heatmap_method=heatmap.method if heatmap is not None else "",
            heatmap_target=heatmap.target if heatmap is not None else None,
            triage=self.red_flags, checklist=self.checklist, age=self.details.age, sex=self.details.sex,
            site=self.details.site, note=self.note, lesion_id=lesion_id,
            quality_problems=self.quality.codes if self.quality is not None else ())


def classifier_red_flag(prediction: Prediction, meta: ModelMeta) -> Finding | None:
    """The classifier's own escalation: an urgent finding when a malignant class reaches its validated
    threshold; none for an image that does not look like dermoscopy (its probabilities mean nothing)."""
    if prediction.out_of_distribution:
        return None
    thresholds = meta.escalation_thresholds
    sensitivities = {c: v.get("sensitivity") for c, v in meta.metrics.get("escalation", {}).items()
                     if c in thresholds and isinstance(v, dict)}
    return classifier_finding(prediction.probabilities, thresholds, sensitivities)


def note_red_flags(note: str) -> tuple[Assessment | None, str | None]:
    """(the note's triage, None), or (None, why it could not be read). An empty note has no triage."""
    if not note.strip():
        return None, None
    try:
        return assess(note), None
    except TriageInputError as exc:
        return None, str(exc)


def pre_image_red_flags(note: str, checklist: ChecklistResult | None) -> tuple[Assessment, str | None]:
    """(red flags known before any image is analysed: the note and the checklist; why the note could
    not be read, or None)."""
    assessment, problem = note_red_flags(note)
    return combine(assessment, checklist_finding(checklist) if checklist else None), problem


def analyse(
    image: bytes | DecodedImage,
    classifier: Classifier,
    settings: Settings,
    *,
    note: str = "",
    checklist: ChecklistResult | None = None,
    details: PatientDetails | None = None,
    heatmaps: HeatmapRequest | None = HeatmapRequest(),
    segmenter: Segmenter | None = None,
) -> Analysis:
    """Decode (when given bytes), predict, combine the red flags, compute the requested heatmaps and, with a
    `segmenter`, the lesion's outline.

    Raises `core.vision.imaging.ImageError` (a message for the user) for bytes that are not a usable
    image, and ValueError for an unknown CAM method or class in `heatmaps`.
    """
    decoded = image if isinstance(image, DecodedImage) else decode_image(
        image, max_pixels=settings.max_image_pixels, min_side=settings.min_image_side)
    (analysis,) = _analyse_batch([decoded], classifier, [details], heatmaps, note=storable(note), checklist=checklist,
                                 segmenter=segmenter)
    return analysis


def analyse_many(images: Iterable[tuple[str, DecodedImage]], classifier: Classifier, *,
                 heatmaps: HeatmapRequest | None = None, details: Mapping[str, PatientDetails] | None = None,
                 batch_size: int = INFERENCE_BATCH, segmenter: Segmenter | None = None) -> Iterator[tuple[str, Analysis]]:
    """Analyses of many decoded images, in order, several images to a forward pass (images whose
    prepared tensors share a shape are batched; the TTA views ride in the same batch). `details` maps an
    image's name to its age, sex and site."""
    details = details or {}
    pending: list[tuple[str, DecodedImage]] = []

    def flush() -> Iterator[tuple[str, Analysis]]:
        by_shape: dict[tuple[int, ...], list[int]] = {}
        prepared = [classifier.prepare(image.image) for _, image in pending]
        for i, p in enumerate(prepared):
            by_shape.setdefault(tuple(p.tensor.shape), []).append(i)
        results: dict[int, Analysis] = {}
        for indices in by_shape.values():
            batch = _analyse_batch([pending[i][1] for i in indices], classifier,
                                   [details.get(pending[i][0]) for i in indices], heatmaps,
                                   prepared=[prepared[i] for i in indices], segmenter=segmenter)
            results.update(zip(indices, batch))
        for i, (name, _) in enumerate(pending):
            yield name, results[i]
        pending.clear()

    for item in images:
        pending.append(item)
        if len(pending) >= batch_size:
            yield from flush()
    if pending:
        yield from flush()


def _analyse_batch(images: list[DecodedImage], classifier: Classifier, details: list[PatientDetails | None],
                   heatmaps: HeatmapRequest | None, *, note: str = "", checklist: ChecklistResult | None = None,
                   prepared: list | None = None, segmenter: Segmenter | None = None) -> list[Analysis]:
    """One forward pass for images whose prepared tensors share a shape; the rest per image."""
    import torch

    prepared = prepared or [classifier.prepare(image.image) for image in images]
    one_pass = heatmaps is not None and heatmaps.method in CAM_EQUIVALENT
    forward = classifier.run(torch.stack([p.tensor for p in prepared]), keep_activations=one_pass)
    given = [d or PatientDetails() for d in details]
    predictions = classifier.predict_pass(forward, per_image=given)
    note_assessment, note_problem = note_red_flags(note)
    out = []
    for i, (image, prediction) in enumerate(zip(images, predictions)):
        red_flags = combine(note_assessment, checklist_finding(checklist) if checklist else None,
                            classifier_red_flag(prediction, classifier.meta))
        explanations: tuple[Explanation, ...] = ()
        if heatmaps is not None:
            from core.explain.cams import explain_many, maps_from_pass  # grad-cam loads only when heatmaps are wanted

            targets = heatmaps.targets(prediction)
            explanations = tuple(
                maps_from_pass(classifier, prepared[i], forward.activations[i:i + 1], heatmaps.method, targets)
                if one_pass else explain_many(classifier, prepared[i], [heatmaps.method], targets))
        lesion = segmenter.segment(image.image) if segmenter is not None else None
        quality = assess_quality(image.image)
        out.append(Analysis(image=image, prediction=prediction, red_flags=red_flags, note=note,
                            note_problem=note_problem, checklist=checklist, details=given[i], heatmaps=explanations,
                            lesion=lesion, quality=quality))
    return out
