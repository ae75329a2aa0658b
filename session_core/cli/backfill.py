"""Backfilling an archive from the transcripts Claude Code still keeps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..base.errors import BusyError, SessionCoreError
from ..store.archive import Archive
from ..transcript import layout
from ..transcript.digest import refresh_digests
from ..transcript.ingest import IngestReport, ingest_file
from ..transcript.layout import check_transcript_path


@dataclass
class ImportSummary:
    files: int = 0
    new_bytes: int = 0
    new_entries: int = 0
    warnings: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    forgotten: set[str] = field(default_factory=set)
    """Sessions whose files were left out: they were forgotten on purpose."""
    cleaned: set[str] = field(default_factory=set)
    """Sessions whose files were left out: cleanup removed them, and they are as they were."""

    def add(self, report: IngestReport) -> None:
        if report.forgotten:
            self.forgotten.add(report.session_uuid)
            return
        if report.cleaned:
            self.cleaned.add(report.session_uuid)
            return
        self.files += 1
        self.new_bytes += report.new_bytes
        self.new_entries += report.new_entries
        self.warnings.extend(report.warnings)


Progress = Callable[[int, int, Path], None]


def ingest_paths(archive: Archive, files: list[Path], progress: Progress | None = None,
                 strict: bool = False) -> ImportSummary:
    """Ingest files in order, then bring any digest left behind up to date. ``strict``:
    refuse the lot if any path is not a transcript."""
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
    try:
        summary.warnings += refresh_digests(archive.db, archive.settings.max_indexed_line_bytes)[1]
    except BusyError as exc:  # the import itself is in; the next reader folds what is left
        summary.warnings.append(f"session digests not brought up to date: {exc.message}")
    return summary


def claude_projects_dir(archive: Archive) -> Path:
    return Path(layout.projects_dir(archive.settings.claude_config_dir))


def project_transcripts(archive: Archive) -> list[Path]:
    folder = layout.project_folder(archive.project, claude_projects_dir(archive))
    return [Path(path) for path in layout.folder_files(folder)]


def folder_files(folder: Path) -> list[Path]:
    return [Path(path) for path in layout.folder_files(str(folder))]


def folder_cwd(folder: Path) -> Path | None:
    found = layout.folder_cwd(str(folder))
    return None if found is None else Path(found)
