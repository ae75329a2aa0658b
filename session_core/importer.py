"""Backfilling an archive from the transcripts Claude Code still keeps."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .archive import Archive
from .errors import SessionCoreError
from .ingest import IngestReport, ingest_file
from .sources import check_transcript_path


@dataclass
class ImportSummary:
    files: int = 0
    new_bytes: int = 0
    new_entries: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, report: IngestReport) -> None:
        self.files += 1
        self.new_bytes += report.new_bytes
        self.new_entries += report.new_entries
        self.warnings.extend(report.warnings)


Progress = Callable[[int, int, Path], None]


def ingest_paths(archive: Archive, files: list[Path], progress: Progress | None = None,
                 strict: bool = False) -> ImportSummary:
    """Ingest files in order. ``strict``: refuse the lot if any path is not a transcript."""
    if strict:
        for path in files:
            check_transcript_path(str(path))
    summary = ImportSummary()
    with archive.db.bulk():
        for index, path in enumerate(files):
            if progress:
                progress(index, len(files), path)
            try:
                summary.add(ingest_file(archive.db, path, archive.settings))
            except SessionCoreError as exc:
                if strict:
                    raise
                summary.failures.append(f"{path}: {exc.message}")
            archive.db.batch_boundary()
    if progress:
        progress(len(files), len(files), Path())
    return summary


def claude_projects_dir(archive: Archive) -> Path:
    return Path(paths.claude_projects_dir(archive.settings.claude_config_dir))


def project_transcripts(archive: Archive) -> list[Path]:
    return folder_files(Path(paths.find_project_folder(archive.project,
                                                       claude_projects_dir(archive))))


def folder_files(project_folder: Path) -> list[Path]:
    """Every file of every session Claude Code keeps in one project folder, sessions first."""
    if not project_folder.is_dir():
        return []
    mains = sorted(p for p in project_folder.glob("*.jsonl") if p.is_file())
    extras: list[Path] = []
    for session_dir in sorted(p for p in project_folder.iterdir() if p.is_dir()):
        for sub in ("subagents", "tool-results"):
            folder = session_dir / sub
            if folder.is_dir():
                extras.extend(sorted(p for p in folder.iterdir() if p.is_file()))
    return mains + extras


def folder_cwd(folder: Path) -> Path | None:
    """The project directory a Claude Code folder belongs to, read from its records' ``cwd``.

    Folder names are a lossy encoding of the path, so the records are the only reliable source.
    """
    for transcript in sorted(folder.glob("*.jsonl")):
        try:
            with open(transcript, "rb") as handle:
                for _, line in zip(range(50), handle, strict=False):
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict) and isinstance(record.get("cwd"), str):
                        return Path(record["cwd"])
        except OSError:
            continue
    return None
