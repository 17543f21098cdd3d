"""The manifest of a run folder: every file boneflare wrote there, with its checksum.

``manifest.jsonl`` holds one JSON line per file written: its path inside the folder,
SHA-256 and size; a later line for the same path replaces an earlier one. Lines are
appended and flushed to disk (cheap however many units a run has); a line cut short
by a crash is ignored, so the file it named counts as unverified and is written again.

Every file is written atomically (:func:`atomic_write`: a temporary file, ``fsync``,
rename, ``fsync`` of the folder), so a crash leaves the old file or the new one, never
half of one. The manifest is what ``--force`` may delete and what a resumed run checks
before trusting (or unpickling) a stored file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path
from typing import Final

MANIFEST: Final[str] = "manifest.jsonl"
"""File name of the manifest, in the run folder."""


def sha256(data: bytes) -> str:
    """Hexadecimal SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename into it) to disk, where the system allows."""
    with contextlib.suppress(OSError):
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and flush it to disk."""
    with open(path, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def atomic_write(target: Path, data: bytes) -> None:
    """Replace ``target`` by ``data`` atomically: temporary file, fsync, rename, fsync."""
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    write_synced(tmp, data)
    os.replace(tmp, target)
    fsync_folder(target.parent)


class Manifest:
    """The manifest of one run folder.

    Parameters
    ----------
    folder : Path
        The run folder (the manifest is ``folder / MANIFEST``).

    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / MANIFEST

    def record(self, written: dict[str, bytes]) -> None:
        """Append the checksums of files just written (path inside the folder: content)."""
        lines = "".join(
            json.dumps({"path": rel, "sha256": sha256(data), "bytes": len(data)}) + "\n"
            for rel, data in written.items()
        )
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(lines)
            file.flush()
            os.fsync(file.fileno())

    def entries(self) -> dict[str, dict[str, object]]:
        """Every recorded file by path (the last line of a path wins; broken lines skipped)."""
        out: dict[str, dict[str, object]] = {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return out
        for line in text.splitlines():
            try:
                entry = json.loads(line)
                out[str(entry["path"])] = entry
            except (ValueError, KeyError, TypeError):
                continue
        return out

    def problem(self, rel: str, entries: dict[str, dict[str, object]] | None = None) -> str | None:
        """Why the file at ``rel`` cannot be trusted (missing, unrecorded, damaged), or None."""
        entries = self.entries() if entries is None else entries
        entry = entries.get(rel)
        if entry is None:
            return f"{rel} is not in the manifest"
        try:
            data = (self.folder / rel).read_bytes()
        except OSError:
            return f"{rel} is missing"
        if sha256(data) != entry.get("sha256"):
            return f"{rel} does not match its checksum"
        return None

    def remove_listed(self) -> None:
        """Delete every file the manifest lists, then the manifest, and folders left empty.

        Nothing else is deleted: a file the manifest does not list stays, and so does
        every folder that still holds one.
        """
        root = self.folder.resolve()
        folders: set[Path] = set()
        for rel in self.entries():
            path = self.folder / rel
            if path.resolve().is_relative_to(root):
                path.unlink(missing_ok=True)
                parent = path.parent  # its folders up to the run's (the known ones stop it)
                while parent not in folders and parent != self.folder:
                    if not parent.is_relative_to(self.folder):
                        break
                    folders.add(parent)
                    parent = parent.parent
        self.path.unlink(missing_ok=True)
        for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
            if folder != self.folder:
                with contextlib.suppress(OSError):
                    folder.rmdir()  # only when empty
