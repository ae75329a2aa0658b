"""What installs changed, remembered in the suite's folder (``install-state.json``), so an
uninstall takes out exactly that and no more.

Per settings file: whether it existed, which containers we created in it, the statusLine we
replaced. Per project: the lines we added to git's ignore files and the folders we created,
which ``uninstall --purge`` removes again.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ...base.fs import ensure_private_dir, write_atomic


class InstallRecords:
    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.data.setdefault("settings", {})
        self.data.setdefault("projects", {})

    @classmethod
    def load(cls, path: Path, suite_in_use: bool) -> InstallRecords:
        """``suite_in_use``: an earlier install put the suite's hooks in place, so records
        that are missing now were lost, not never written."""
        lost = False
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            data, lost = {}, suite_in_use
        except ValueError:
            print(f"warning: {path} is not valid JSON; starting a new one", file=sys.stderr)
            data, lost = {}, True
        if not isinstance(data, dict) or not isinstance(data.get("settings", {}), dict) \
                or not isinstance(data.get("projects", {}), dict):
            data, lost = {}, True
        records = cls(path, data)
        if lost:
            records.data["complete"] = False  # saved: a later install cannot make them whole
        return records

    @property
    def complete(self) -> bool:
        """False once records were lost: other projects may run hooks from the suite that
        these records do not know."""
        return self.data.get("complete") is not False

    def settings(self, settings: Path) -> dict[str, Any] | None:
        record = self.data["settings"].get(str(settings))
        return record if isinstance(record, dict) else None

    def set_settings(self, settings: Path, record: dict[str, Any] | None) -> None:
        if record is None:
            self.data["settings"].pop(str(settings), None)
        else:
            self.data["settings"][str(settings)] = record

    def settings_files(self) -> list[Path]:
        return [Path(name) for name in self.data["settings"]]

    def project(self, project: Path) -> dict[str, Any]:
        """The project's record (lines added, folders created), created empty if needed."""
        found = self.data["projects"].setdefault(str(project), {})
        found.setdefault("lines", [])
        found.setdefault("folders", [])
        return found  # type: ignore[no-any-return]

    def added_line(self, project: Path, file: Path, line: str, joined: bool) -> None:
        """``joined``: a line break was added before it (the file ended without one)."""
        entry = [str(file), line, joined]
        if entry not in self.project(project)["lines"]:
            self.project(project)["lines"].append(entry)

    def created_folder(self, project: Path, folder: Path) -> None:
        if str(folder) not in self.project(project)["folders"]:
            self.project(project)["folders"].append(str(folder))

    def forget_project(self, project: Path) -> None:
        self.data["projects"].pop(str(project), None)

    def save(self) -> None:
        """Written only when it changed (a second install touches nothing)."""
        data = (json.dumps(self.data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            if self.path.read_bytes() == data:
                return
        except FileNotFoundError:
            if not self.data["settings"] and not self.data["projects"] and self.complete:
                return
        ensure_private_dir(self.path.parent)
        write_atomic(self.path, data)
