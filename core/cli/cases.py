"""Case commands: export the queue, import a folder of images as cases, check storage consistency; backup and restore."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _open_store(settings):
    from core.cases import CaseStore, CaseStoreError

    try:
        return CaseStore.open(settings)
    except CaseStoreError as exc:
        _err(str(exc))
        return None


def _default_actor(settings) -> str:
    import getpass

    configured = settings.user_name.strip()
    if configured:
        return configured
    try:
        return f"{getpass.getuser()} (command line)"
    except (OSError, KeyError):  # no login name in some containers
        return "command line"


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2026-03-31") from None


def _export(args: argparse.Namespace) -> int:
    from core.cases import CaseInputError, CaseStoreError, QueueFilter

    try:
        queue_filter = QueueFilter(statuses=tuple(args.status or ()), urgencies=tuple(args.urgency or ()),
                                   predicted=tuple(args.predicted or ()), created_from=args.date_from,
                                   created_to=args.date_to)
    except CaseInputError as exc:
        _err(str(exc))
        return 2
    store = _open_store(args.settings)
    if store is None:
        return 2
    out = Path(args.out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w", newline="", encoding="utf-8") as fh:
            count = store.export_csv(fh, queue_filter)
    except OSError as exc:
        _err(f"cannot write {out}: {exc.strerror or exc}")
        return 2
    except CaseStoreError as exc:
        _err(str(exc))
        return 1
    finally:
        store.close()
    _err(f"wrote {count} case(s) to {out}")
    return 0


def _import_folder(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from core.cases.batch import BatchInputError, analyse_batch, files_from_folder
    from core.cases import CaseStoreError, check_actor
    from core.vision.classifier import Classifier
    from core.vision.model import CheckpointError

    try:
        actor = check_actor(args.user or _default_actor(args.settings))
        files = files_from_folder(Path(args.path))
    except (BatchInputError, CaseStoreError) as exc:
        _err(str(exc))
        return 2
    if not files:
        _err(f"no files in {args.path}")
        return 2
    try:
        classifier = Classifier.load(args.model_dir or args.settings.model_dir,
                                     low_confidence=args.settings.low_confidence,
                                     precision=args.settings.inference_precision)
    except CheckpointError as exc:
        _err(str(exc))
        return 2
    store = _open_store(args.settings)
    if store is None:
        return 2
    try:
        with tqdm(total=len(files), desc="import", unit="image", file=sys.stderr) as bar:
            def progress(done: int, total: int, name: str) -> None:
                bar.set_postfix_str(Path(name).name[:30], refresh=False)
                bar.update(1)

            result = analyse_batch(files, classifier, store, actor, args.settings,
                                   heatmaps=not args.no_heatmaps, progress=progress)
    finally:
        store.close()
    for skipped in result.skipped:
        _err(f"skipped {skipped.name}: {skipped.reason}")
    if result.rows:
        print(f"{'urgency':<10} {'case':>6}  {'predicted':<9} {'confidence':>10}  file")
        for row in result.rows:
            print(f"{row.urgency:<10} {row.case_id:>6}  {row.predicted:<9} {row.confidence:>10.1%}  {row.name}")
    if args.summary:
        Path(args.summary).write_text(result.to_csv(), encoding="utf-8")
    _err(f"saved {len(result.rows)} case(s), skipped {len(result.skipped)} file(s)"
         + (f"; summary in {args.summary}" if args.summary else ""))
    return 0 if result.rows else 1


def _backup(args: argparse.Namespace) -> int:
    from core.cases.backup import BackupError, backup

    try:
        report = backup(args.settings, Path(args.out))
    except (BackupError, OSError) as exc:
        _err(f"backup failed: {exc}")
        return 1
    print(f"backed up {report.cases} case(s) ({report.backend}) and {report.image_files} image file(s) to "
          f"{report.path} ({report.bytes / 1e6:.1f} MB)")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from core.cases.backup import BackupError, restore

    try:
        report = restore(args.settings, Path(args.archive), replace_existing=args.replace)
    except (BackupError, OSError) as exc:
        _err(f"restore failed: {exc}")
        return 1
    print(f"restored {report.cases} case(s) ({report.backend}) and {report.image_files} image file(s) from "
          f"{report.path}; run `python -m core cases check` to verify")
    return 0


def _check(args: argparse.Namespace) -> int:
    from core.cases import CaseStoreError

    store = _open_store(args.settings)
    if store is None:
        return 2
    try:
        report = store.check(remove_orphans=args.remove_orphans)
    except CaseStoreError as exc:
        _err(str(exc))
        return 1
    finally:
        store.close()
    print(f"database integrity: {report.integrity}")
    print(f"cases: {report.cases}")
    print(f"missing image files: {len(report.missing_files)}")
    for name in report.missing_files:
        print(f"  missing {name}")
    print(f"unreferenced files (not counted as cases): {len(report.orphan_files)}; temp files: {len(report.temp_files)}")
    if args.remove_orphans:
        print(f"removed {report.removed} file(s) older than an hour")
    return 0 if report.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="back up the case database and image store into one archive (safe while "
                                      "the app runs)")
    p.add_argument("--out", required=True, help="archive to write (.tar.gz)")
    p.set_defaults(func=_backup)
    p = sub.add_parser("restore", help="restore a backup archive into the configured data directory / database")
    p.add_argument("archive", help="a file written by `python -m core backup`")
    p.add_argument("--replace", action="store_true",
                   help="replace a database that already holds cases (an SQLite file is kept beside it, renamed)")
    p.set_defaults(func=_restore)

    cases = sub.add_parser("cases", help="saved cases: export, import a folder, check storage")
    cases_sub = cases.add_subparsers(dest="cases_command", required=True, metavar="SUBCOMMAND")

    p = cases_sub.add_parser("export", help="write the case queue (optionally filtered) as CSV")
    p.add_argument("--out", required=True, help="output CSV file")
    p.add_argument("--status", nargs="+", metavar="STATUS", help="open, reviewed and/or closed")
    p.add_argument("--urgency", nargs="+", metavar="LEVEL", help="routine, urgent and/or emergency")
    p.add_argument("--predicted", nargs="+", metavar="CLASS", help="predicted class code(s), e.g. mel bcc")
    p.add_argument("--from", dest="date_from", type=_day, metavar="YYYY-MM-DD", help="saved on or after (UTC)")
    p.add_argument("--to", dest="date_to", type=_day, metavar="YYYY-MM-DD", help="saved on or before (UTC)")
    p.set_defaults(func=_export)

    p = cases_sub.add_parser("import-folder", help="analyse every image in a folder and save one case per image")
    p.add_argument("path", metavar="PATH", help="folder of images (searched recursively)")
    p.add_argument("--user", help="name recorded in the audit trail (default: DERMADESK_USER or your login)")
    p.add_argument("--summary", metavar="FILE.csv", help="also write the batch summary as CSV")
    p.add_argument("--no-heatmaps", action="store_true", help="skip Grad-CAM (faster; cases then have no heatmap)")
    p.add_argument("--model-dir", help="checkpoint folder (default: settings)")
    p.set_defaults(func=_import_folder)

    p = cases_sub.add_parser("check", help="verify the database and the image store agree")
    p.add_argument("--remove-orphans", action="store_true",
                   help="delete image files no case refers to (older than an hour) and stale temp files")
    p.set_defaults(func=_check)
