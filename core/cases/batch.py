"""Batch analysis: several images, a zip archive or a folder in, one saved case per image out.

Each readable image goes through `core.analysis.analyse` (decoded, classified, Grad-CAM of the top class
when wanted, the classifier's red-flag escalation) and is saved as a case. A file that cannot be used is listed with the reason and
skipped; the rest complete. The summary puts the most urgent cases first.

    files = files_from_folder(Path("incoming/"))
    result = analyse_batch(files, classifier, store, "Dr Lee", settings, progress=print_progress)
    Path("summary.csv").write_text(result.to_csv())
"""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.analysis import HeatmapRequest, analyse
from core.cases.errors import CaseStoreError
from core.cases.store import CaseStore, check_actor, urgency_sort_key
from core.config import Settings
from core.explain.methods import DEFAULT_METHOD
from core.vision.imaging import ImageError

if TYPE_CHECKING:
    from core.vision.classifier import Classifier
MAX_ZIP_MEMBERS = 5000
MAX_MEMBER_BYTES = 64 * 1024 * 1024  # larger than any sane lesion photograph; guards against zip bombs

ProgressCallback = Callable[[int, int, str], None]  # (files done, files in total, name of the file just done)


class BatchInputError(ValueError):
    """The batch itself (not one file in it) cannot be read, e.g. a corrupt zip archive."""


@dataclass(frozen=True)
class BatchFile:
    """One input file: a display name and a way to read its bytes (lazily, so folders stream)."""

    name: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class BatchRow:
    name: str
    case_id: int
    lesion_id: str
    urgency: str
    predicted: str
    confidence: float
    malignant_probability: float
    low_confidence: bool
    out_of_distribution: bool
    red_flags: str


@dataclass(frozen=True)
class SkippedFile:
    name: str
    reason: str


@dataclass(frozen=True)
class BatchResult:
    rows: tuple[BatchRow, ...]  # most urgent first, then most suspicious
    skipped: tuple[SkippedFile, ...]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["file", "status", "case_id", "lesion_id", "urgency", "predicted", "confidence",
                         "malignant_probability", "low_confidence", "out_of_distribution", "red_flags", "reason"])
        for r in self.rows:
            writer.writerow([r.name, "saved", r.case_id, r.lesion_id, r.urgency, r.predicted, f"{r.confidence:.4f}",
                             f"{r.malignant_probability:.4f}", r.low_confidence, r.out_of_distribution, r.red_flags, ""])
        for s in self.skipped:
            writer.writerow([s.name, "skipped", "", "", "", "", "", "", "", "", "", s.reason])
        return out.getvalue()

    def table(self) -> list[dict[str, object]]:
        """Rows as plain dicts, urgent first, for on-screen tables."""
        return [{"file": r.name, "case": r.case_id, "urgency": r.urgency, "predicted": r.predicted,
                 "confidence": round(r.confidence, 3), "malignant probability": round(r.malignant_probability, 3),
                 "low confidence": r.low_confidence, "not a lesion image?": r.out_of_distribution,
                 "red flags": r.red_flags} for r in self.rows]


def _is_hidden(name: str) -> bool:
    return any((part.startswith(".") and part not in (".", "..")) or part == "__MACOSX" for part in Path(name).parts)


def _unsafe_member_name(name: str) -> bool:
    """A member that would land outside the archive's folder if unpacked ('../x', '/etc/x', 'C:\\x')."""
    parts = Path(name.replace("\\", "/")).parts
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def files_from_folder(folder: Path) -> list[BatchFile]:
    """Every regular file under `folder` (recursively, hidden files aside), sorted by path."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BatchInputError(f"{folder} is not a folder.")

    def reader(path: Path) -> Callable[[], bytes]:
        def read() -> bytes:
            try:
                return path.read_bytes()
            except OSError as exc:
                raise ImageError(f"Cannot read the file: {exc.strerror or exc}.") from None
        return read

    paths = sorted(p for p in folder.rglob("*") if p.is_file() and not _is_hidden(str(p.relative_to(folder))))
    return [BatchFile(str(p.relative_to(folder)), reader(p)) for p in paths]


def files_from_zip(data: bytes, archive_name: str = "archive.zip") -> list[BatchFile]:
    """The files inside a zip archive (folders, hidden files and macOS metadata left out)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        raise BatchInputError(f"{archive_name} is not a readable zip archive.") from None
    members = [m for m in archive.infolist() if not m.is_dir() and not _is_hidden(m.filename)]
    if len(members) > MAX_ZIP_MEMBERS:
        raise BatchInputError(f"{archive_name} holds {len(members)} files; the limit is {MAX_ZIP_MEMBERS} per batch.")

    def reader(member: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            if _unsafe_member_name(member.filename):
                # Never unpacked (members are read into memory), but such a name is a sign of a crafted archive.
                raise ImageError("Its path inside the archive points outside the archive (e.g. '../'); it was not read.")
            if member.file_size > MAX_MEMBER_BYTES:
                raise ImageError(f"The file unpacks to {member.file_size / 2**20:.0f} MB; the limit is "
                                 f"{MAX_MEMBER_BYTES / 2**20:.0f} MB.")
            try:
                return archive.read(member)
            except RuntimeError:  # zipfile's way of saying the member is encrypted
                raise ImageError("The file is password-protected inside the archive.") from None
            except NotImplementedError:
                raise ImageError("The file is packed with a compression method this reader does not support.") from None
            except (zipfile.BadZipFile, OSError, EOFError):
                raise ImageError("The file is damaged inside the archive.") from None
        return read

    return [BatchFile(f"{archive_name}/{m.filename}", reader(m)) for m in members]


def files_from_uploads(uploads: Iterable[tuple[str, bytes]]) -> list[BatchFile]:
    """Uploaded files; a zip archive among them is opened and its files take its place."""
    files: list[BatchFile] = []
    for name, data in uploads:
        if name.lower().endswith(".zip"):
            files += files_from_zip(data, name)
        else:
            files.append(BatchFile(name, lambda data=data: data))
    return files


def analyse_batch(files: Sequence[BatchFile], classifier: Classifier, store: CaseStore, actor: str, settings: Settings,
                  *, heatmaps: bool = True, progress: ProgressCallback | None = None) -> BatchResult:
    """Analyse and save each file as a case; unusable files are skipped with their reason."""
    actor = check_actor(actor)  # before any work: without a name no case could be saved
    request = HeatmapRequest(DEFAULT_METHOD) if heatmaps else None
    rows: list[BatchRow] = []
    skipped: list[SkippedFile] = []
    for done, file in enumerate(files, start=1):
        try:
            analysis = analyse(file.read(), classifier, settings, heatmaps=request)
            saved = store.create_case(analysis.new_case(source_name=Path(file.name).name), actor=actor)
            prediction = analysis.prediction
            rows.append(BatchRow(
                name=file.name, case_id=saved.id, lesion_id=saved.lesion_id, urgency=saved.urgency,
                predicted=prediction.predicted, confidence=prediction.confidence,
                malignant_probability=prediction.malignant_probability,
                low_confidence=prediction.low_confidence, out_of_distribution=prediction.out_of_distribution,
                red_flags="; ".join(f.finding for f in analysis.red_flags.findings)))
        except (ImageError, CaseStoreError) as exc:
            skipped.append(SkippedFile(file.name, str(exc)))
        if progress is not None:
            progress(done, len(files), file.name)
    rows.sort(key=lambda r: urgency_sort_key(r.urgency, r.malignant_probability))
    return BatchResult(tuple(rows), tuple(skipped))
