"""PDF reports for a saved case: a full clinician report and a one-page summary for the patient.

Drawn with fpdf2 alone (the probability chart is vector rectangles and text, so no plotly image
export is needed and every label stays searchable in the PDF). Text is set in DejaVu Sans when it is
available (matplotlib ships it, and matplotlib comes with grad-cam); without it the PDF falls back to
the built-in Helvetica with text mapped to Latin-1, so a missing font never stops a report.

    pdf_bytes = clinician_report(store.get_case(case_id))
    leaflet = patient_summary(store.get_case(case_id))   # needs the clinician's verdict
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timezone

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from PIL import Image

from core.cases import AGREEMENTS, MANAGEMENTS, CaseDetail, CaseStoreError
from core.triage.checklist import ITEMS
from core.config import CLASS_NAMES, MALIGNANT
from core.explain.figures import dejavu_fonts, heatmap_overlay, mask_outline
from core.explain.methods import method_label
from core.vision.limits import MODEL_LIMITS

PAGE_WIDTH = 210.0  # A4, millimetres
MARGIN = 15.0
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
PDF_IMAGE_MAX_SIDE = 900  # pixels; enough for print at the size shown, keeps the PDF small

DECISION_SUPPORT = ("This report is decision support. It does not replace clinical examination, dermoscopy by a "
                    "trained clinician or histology.")

LEVEL_HEADINGS = {
    "emergency": "EMERGENCY - needs emergency care now",
    "urgent": "URGENT - same-week specialist review (suspected cancer pathway)",
    "routine": "No red flag raised by the checks made at analysis (note, checklist, classifier)",
}

# Plain-language descriptions for the patient summary: what the clinician's diagnosis means.
LAY_DIAGNOSIS = {
    "akiec": "a rough patch of sun-damaged skin (an actinic keratosis) or a very early skin cancer that stays in "
             "the top layer of the skin (Bowen's disease). Both are common on skin that has had a lot of sun, "
             "and both can be treated.",
    "bcc": "a basal cell carcinoma. This is the most common kind of skin cancer. It grows slowly and almost never "
           "spreads to other parts of the body, and treatment usually removes it completely.",
    "bkl": "a harmless growth on the surface of the skin (a benign keratosis, such as a seborrhoeic keratosis). "
           "These become more common with age and are not cancer.",
    "df": "a dermatofibroma: a harmless firm bump in the skin, which often appears after a small injury or an "
          "insect bite.",
    "mel": "a possible melanoma, a kind of skin cancer that starts in the cells that give skin its colour. "
           "Finding and treating it early matters, which is why your clinician has planned the next steps below.",
    "nv": "a mole (a melanocytic naevus): a common, usually harmless group of pigment cells.",
    "vasc": "a harmless spot made of small blood vessels (a vascular lesion, such as a cherry angioma).",
}

LAY_NEXT_STEPS = {
    "reassure": "No treatment or further tests are needed: your clinician is confident that this spot is "
                "harmless.",
    "monitor": "Your clinician would like to keep an eye on this spot. You will be offered a check-up, often "
               "with a new photograph to compare with today's. Please keep that appointment even if the spot "
               "looks the same to you.",
    "biopsy": "A small sample of the spot (a biopsy) will be taken, with an injection to numb the skin first, and "
              "looked at under a microscope. This tells your clinician exactly what it is. You will be told the "
              "result and what it means for you.",
    "excise": "The whole spot will be removed in a small operation, with an injection to numb the skin first, and "
              "sent to a laboratory to be checked. You will be told the result and whether anything more is needed.",
    "refer": "You are being referred to a specialist, usually a skin doctor (dermatologist), who will look at the "
             "spot. If you have not heard about your appointment within two weeks, please contact the practice.",
}

SEEK_HELP_SOONER = ("Contact your clinician before your next appointment if the spot grows, changes shape or colour, "
                    "bleeds, oozes or crusts, itches or hurts, or does not heal.")
SEEK_HELP_NOW = ("Call emergency services or go to an emergency department straight away if you feel very unwell "
                 "with a high temperature and a rash that does not fade when you press a glass against it, if "
                 "your skin blisters or peels over a large area, or if your lips, tongue or throat swell or you "
                 "find it hard to breathe.")


class ReportError(ValueError):
    """A report cannot be produced for this case; the message says why."""


_LATIN1_REPLACEMENTS = {"—": "-", "–": "-", "→": "->", "←": "<-", "≥": ">=", "≤": "<=", "‘": "'", "’": "'",
                        "“": '"', "”": '"', "…": "...", "•": "-", "×": "x", "≈": "~", "−": "-", "\u00a0": " "}


def to_latin1(text: str) -> str:
    """Text the built-in PDF fonts can show: common typography mapped, accents kept where Latin-1 has
    them, otherwise stripped, anything else replaced by '?'."""
    out = []
    for ch in text:
        ch = _LATIN1_REPLACEMENTS.get(ch, ch)
        try:
            ch.encode("latin-1")
        except UnicodeEncodeError:
            decomposed = unicodedata.normalize("NFKD", ch).encode("latin-1", "ignore").decode("latin-1")
            ch = decomposed if decomposed.strip() else "?"
        out.append(ch)
    return "".join(out)


class _Pdf(FPDF):
    """FPDF with our fonts, a footer on every page, and text cleaned for the font in use."""

    def __init__(self, footer_text: str, unicode_fonts: bool):
        super().__init__(format="A4")
        self.footer_text = footer_text
        fonts = dejavu_fonts() if unicode_fonts else None
        if fonts is not None:
            self.add_font("DejaVu", "", fonts.regular)
            self.add_font("DejaVu", "B", fonts.bold)
            self.font_name = "DejaVu"
        else:
            self.font_name = "Helvetica"
        self.has_unicode = fonts is not None
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=18)
        self.set_title(to_latin1(footer_text))
        self.set_creator("DermaDesk")

    def clean(self, text: str) -> str:
        return text if self.has_unicode else to_latin1(text)

    def font(self, size: float, bold: bool = False) -> None:
        self.set_font(self.font_name, "B" if bold else "", size)

    def footer(self) -> None:
        self.set_y(-13)
        self.font(7.5)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, self.clean(f"{self.footer_text} · page {self.page_no()}"), align="C")
        self.set_text_color(0, 0, 0)

    def heading(self, text: str, size: float = 12.5) -> None:
        self.ln(2)
        self.font(size, bold=True)
        self.multi_cell(CONTENT_WIDTH, size * 0.5, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def paragraph(self, text: str, size: float = 9.5, bold: bool = False) -> None:
        self.font(size, bold)
        self.multi_cell(CONTENT_WIDTH, size * 0.48, self.clean(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bullet(self, text: str, size: float = 9.5) -> None:
        self.font(size)
        self.set_x(MARGIN + 3)
        self.multi_cell(CONTENT_WIDTH - 3, size * 0.48, self.clean(f"- {text}"), align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def rows(self, pairs: list[tuple[str, str]], label_width: float = 42, size: float = 9.5) -> None:
        for label, value in pairs:
            self.font(size, bold=True)
            self.cell(label_width, size * 0.5, self.clean(label))
            self.font(size)
            self.multi_cell(CONTENT_WIDTH - label_width, size * 0.5, self.clean(value or "-"), align="L",
                            new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def boxed(self, text: str, fill: tuple[int, int, int], size: float = 10, bold: bool = True) -> None:
        self.set_fill_color(*fill)
        self.font(size, bold)
        self.multi_cell(CONTENT_WIDTH, size * 0.55, self.clean(text), fill=True, padding=2, align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)


def _for_pdf(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    image.thumbnail((PDF_IMAGE_MAX_SIDE, PDF_IMAGE_MAX_SIDE))
    return image


def _place_images(pdf: _Pdf, images: list[tuple[Image.Image, str]], max_height: float = 70) -> None:
    """Images side by side in equal columns, each with a caption underneath."""
    gap = 5.0
    column = (CONTENT_WIDTH - gap * (len(images) - 1)) / len(images)
    heights = [min(max_height, column * img.height / img.width) for img, _ in images]
    row_height = max(heights) + 7
    if pdf.get_y() + row_height > pdf.h - 20:
        pdf.add_page()
    top = pdf.get_y()
    for i, ((img, caption), height) in enumerate(zip(images, heights)):
        width = height * img.width / img.height
        x = MARGIN + i * (column + gap)
        pdf.image(_for_pdf(img), x=x + (column - width) / 2, y=top, w=width, h=height)
        pdf.set_xy(x, top + max(heights) + 1)
        pdf.font(8)
        pdf.cell(column, 4, pdf.clean(caption), align="C")
    pdf.set_xy(MARGIN, top + row_height)


def _probability_chart(pdf: _Pdf, probabilities: dict[str, float]) -> None:
    """Horizontal bars, most probable first; malignant classes in red and labelled as such."""
    label_width, value_width, bar_height, step = 86.0, 14.0, 4.2, 6.0
    bar_space = CONTENT_WIDTH - label_width - value_width
    ranked = sorted(probabilities.items(), key=lambda kv: kv[1], reverse=True)
    if pdf.get_y() + step * len(ranked) > pdf.h - 20:
        pdf.add_page()
    for code, p in ranked:
        y = pdf.get_y()
        malignant = code in MALIGNANT
        label = pdf.clean(f"{code} - {CLASS_NAMES.get(code, code)}{' (malignant)' if malignant else ''}")
        size = 8.5
        pdf.font(size, bold=malignant)
        while size > 5.5 and pdf.get_string_width(label) > label_width - 2:  # shrink long names to fit
            size -= 0.5
            pdf.font(size, bold=malignant)
        pdf.set_xy(MARGIN, y)
        pdf.cell(label_width, step, label)
        pdf.set_fill_color(236, 236, 236)
        pdf.rect(MARGIN + label_width, y + (step - bar_height) / 2, bar_space, bar_height, style="F")
        pdf.set_fill_color(*((192, 57, 43) if malignant else (46, 134, 193)))
        if p > 0:
            pdf.rect(MARGIN + label_width, y + (step - bar_height) / 2, max(bar_space * p, 0.3), bar_height, style="F")
        pdf.set_xy(MARGIN + label_width + bar_space, y)
        pdf.font(8.5)
        pdf.cell(value_width, step, f"{p:.1%}", align="R")
        pdf.set_xy(MARGIN, y + step)


def _when(value: datetime | None) -> str:
    return f"{value.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC" if value else "-"


def _lesion_section(pdf: _Pdf, image: Image.Image, lesion, heatmap, out_of_distribution: bool) -> None:
    """Outline, heatmap placement and ABCD measurements, recomputed from the stored image."""
    from core.explain.placement import place
    from core.segmentation.abcd import measure

    pdf.heading("Lesion outline and measurements")
    if out_of_distribution or not lesion.usable:
        why = "the image does not look like dermoscopy" if out_of_distribution else lesion.problem
        pdf.paragraph(f"Not measured: {why}.", size=9)
        return
    if heatmap is not None:
        placement = place(heatmap, lesion.mask)
        if placement.off_lesion:
            pdf.boxed(placement.summary(), fill=(255, 229, 180), size=9)
        else:
            pdf.paragraph(placement.summary(), size=9)
    pdf.paragraph("Measured from the outline and the image's colours: teaching aids, not the clinician's ABCD "
                  "assessment.", size=8.5)
    pdf.rows([(feature, value) for feature, value, _ in measure(image, lesion.mask).plain_words()])


def clinician_report(case: CaseDetail, *, unicode_fonts: bool = True, segmenter=None) -> bytes:
    """The full report for the clinical record: images, heatmap, probabilities, red flags, verdict, history; with a
    `segmenter` (`core.segmentation.segmenter.Segmenter`) also the lesion outline, whether the heatmap is on it, and
    the ABCD measurements."""
    s = case.summary
    prediction = case.prediction
    pdf = _Pdf(f"DermaDesk case #{s.id} - decision support, not a diagnosis", unicode_fonts)
    pdf.add_page()
    pdf.heading(f"DermaDesk case report - case #{s.id}", size=16)
    pdf.boxed("Decision support, not a diagnosis. The model's output below supports, and never replaces, the "
              "clinician's examination, dermoscopy and histology.", fill=(255, 243, 205), size=9)

    pdf.heading("Case")
    pdf.rows([
        ("Lesion", s.lesion_id),
        ("Visit", _when(s.created_at)),
        ("Saved by", s.created_by),
        ("Status", s.status),
        ("Age / sex / site", f"{s.age if s.age is not None else 'unknown'} / {s.sex or 'unknown'} / {s.site or 'unknown'}"),
        ("Image", f"{s.source_name or 'upload'} ({case.images[0].width}x{case.images[0].height} px)"),
        ("Model version", prediction.model_version),
    ])

    assessment = case.assessment()
    pdf.heading("Red flags")
    colour = {"emergency": (248, 215, 218), "urgent": (255, 229, 180), "routine": (226, 239, 218)}[assessment.level]
    pdf.boxed(LEVEL_HEADINGS[assessment.level], fill=colour)
    for finding in assessment.findings:
        pdf.bullet(f"{finding.condition}: {finding.finding}" + (f" ({finding.detail})" if finding.detail else ""))
    for advice in assessment.advice[1:] if assessment.escalated else ():
        pdf.paragraph(advice, size=9)

    pdf.heading("Model output at the time of analysis")
    if prediction.out_of_distribution:
        pdf.boxed("This image did not look like a dermoscopy image of a skin lesion to the model (out of "
                  "distribution): its probabilities are not meaningful.", fill=(248, 215, 218), size=9)
    if prediction.low_confidence:
        pdf.boxed(f"Low confidence: the most probable class has only {max(prediction.probabilities.values()):.0%} "
                  "probability; the model cannot "
                  "separate the leading diagnoses.", fill=(217, 237, 247), size=9, bold=False)
    pdf.paragraph(f"Suggested class: {prediction.predicted} - {CLASS_NAMES.get(prediction.predicted, '')} "
                  f"({prediction.confidence:.0%}). Calibrated probabilities (red: malignant classes):")
    pdf.ln(1)
    _probability_chart(pdf, prediction.probabilities)
    pdf.ln(2)
    # A file lost from the image store must not cost the clinician the rest of the record.
    try:
        image = case.images[0].load()
    except CaseStoreError:
        image = None
        pdf.paragraph("The lesion image file is missing from the image store (`python -m core cases check` "
                      "lists missing files); the report is otherwise complete.", size=9, bold=True)
    try:
        heatmap = prediction.heatmap()
    except CaseStoreError as exc:
        heatmap = None
        pdf.paragraph(str(exc), size=9, bold=True)
    lesion = segmenter.segment(image) if segmenter is not None and image is not None else None
    if image is not None:
        panels = [(image, "Lesion image")]
        if heatmap is not None:
            overlay = heatmap_overlay(image, heatmap)
            if lesion is not None and lesion.usable:
                overlay = mask_outline(overlay, lesion.mask, width=max(2, round(min(image.size) / 160)))
            panels.append((overlay, f"{method_label(prediction.heatmap_method)} for {prediction.heatmap_target}"
                                    + (", green: lesion outline" if lesion is not None and lesion.usable else "")))
        _place_images(pdf, panels)
    if lesion is not None:
        _lesion_section(pdf, image, lesion, heatmap, prediction.out_of_distribution)

    pdf.heading("Clinical note")
    pdf.paragraph(case.note.strip() or "No note was recorded.")
    evidence = sorted({e for f in assessment.findings for e in f.evidence})
    if evidence:
        pdf.paragraph("Words that raised a red flag: " + "; ".join(f'"{e}"' for e in evidence), size=9, bold=True)

    pdf.heading("NICE weighted 7-point checklist")
    if case.checklist is None:
        pdf.paragraph("Not completed.")
    else:
        labels = {item.key: f"{item.label} ({item.points})" for item in ITEMS}
        present = [labels.get(key, key) for key in case.checklist.get("present", [])]
        pdf.paragraph(f"Score {case.checklist.get('score', 0)}"
                      + (" - 3 or more: suspected-cancer pathway referral." if case.checklist.get("refer") else
                         " - below the referral threshold of 3."))
        pdf.paragraph("Features present: " + (", ".join(present) if present else "none"), size=9)

    pdf.heading("Clinician verdict")
    if case.verdict is None:
        pdf.paragraph("No verdict has been recorded yet.")
    else:
        v = case.verdict
        pdf.rows([("Diagnosis", v.diagnosis_label), ("Agreement", AGREEMENTS[v.agreement]),
                  ("Management", MANAGEMENTS[v.management]), ("Comment", v.comment.strip()),
                  ("By", f"{case.verdict_by} on {_when(case.verdict_at)}")])

    if case.previous_visits or case.later_visits:
        pdf.heading("Other visits of this lesion")
        for visit in (*case.previous_visits, *case.later_visits):
            pdf.bullet(f"Case #{visit.id}, {_when(visit.created_at)}: model {visit.predicted_class} "
                       f"({visit.confidence:.0%}); verdict {visit.verdict_diagnosis or 'none yet'}"
                       + (f", {visit.verdict_management}" if visit.verdict_management else ""))

    pdf.heading("History")
    for entry in case.audit:
        pdf.bullet(f"{_when(entry.at)} - {entry.actor}: {entry.describe()}", size=8.5)

    pdf.heading("Limits of this model")
    for limit in (*MODEL_LIMITS, DECISION_SUPPORT):
        pdf.bullet(limit, size=8.5)
    pdf.ln(2)
    pdf.paragraph(f"Report generated {_when(datetime.now(timezone.utc))} from case version {s.version}.", size=8)
    return bytes(pdf.output())


def patient_summary(case: CaseDetail, *, unicode_fonts: bool = True) -> bytes:
    """One page in plain language for the patient: what was found, what happens next, when to get help.

    It carries no model probabilities and is only produced once a clinician has recorded a verdict,
    so the patient hears the clinician's conclusion, not the software's.
    """
    if case.verdict is None:
        raise ReportError("The patient summary is written from the clinician's verdict: record the verdict first.")
    v = case.verdict
    s = case.summary
    pdf = _Pdf("Your skin check - summary from DermaDesk", unicode_fonts)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.heading("Your skin check", size=18)
    where = f" on your {s.site}" if s.site else ""
    pdf.paragraph(f"You had a skin spot{where} checked on {s.created_at:%d %B %Y}. This page explains what "
                  "your clinician found and what happens next. Keep it, and bring it to any follow-up appointment.",
                  size=11)

    pdf.heading("What your clinician found", size=13)
    found = LAY_DIAGNOSIS.get(v.diagnosis)
    pdf.paragraph(f"Your clinician thinks this is {found}" if found else
                  f"Your clinician's conclusion: {v.diagnosis}. Ask them to explain anything that is unclear.", size=11)

    pdf.heading("What happens next", size=13)
    pdf.paragraph(LAY_NEXT_STEPS[v.management], size=11)
    if s.urgency != "routine":
        pdf.paragraph("At your visit your clinician noted signs that need attention soon. Please follow the plan "
                      "above without delay.", size=11, bold=True)

    pdf.heading("When to get help sooner", size=13)
    pdf.paragraph(SEEK_HELP_SOONER, size=11)
    pdf.ln(1)
    pdf.boxed(SEEK_HELP_NOW, fill=(248, 215, 218), size=11)

    pdf.heading("About the computer tool", size=13)
    pdf.paragraph("A computer program helped your clinician look at a picture of the spot. The program does not "
                  "make a diagnosis; your clinician does, using their own examination.", size=10)
    pdf.ln(3)
    pdf.paragraph(f"Reference: case {s.id}, lesion {s.lesion_id}.", size=9)
    if pdf.page_no() != 1 or pdf.get_y() > pdf.h - 15:
        raise ReportError("The patient summary does not fit on one page; shorten the diagnosis text.")
    return bytes(pdf.output())
