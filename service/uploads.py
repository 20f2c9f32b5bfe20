"""Where admin uploads are kept (<index folder's parent>/uploads/<time>-<rand>/) and how orphans are found.

While an upload is being indexed its folder holds ``.inprogress``, locked (flock) by the process doing
it. A folder whose ``.inprogress`` is not locked by anyone belongs to an upload that was killed
half-way: :func:`clean_orphans` removes it. Finished uploads (no ``.inprogress``) are kept: they are
the originals of the replies in the index.
"""
from __future__ import annotations

import fcntl
import logging
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import IO

log = logging.getLogger("dafu.uploads")
MARKER = ".inprogress"


def safe_name(name: str, n: int) -> str:
    """The file name of an upload without folders, control characters or a leading dot."""
    base = Path((name or "").replace("\\", "/")).name
    base = re.sub(r"[\x00-\x1f/]", "", base).strip().lstrip(".") or f"upload-{n}"
    return base[-120:]


class UploadDir:
    """A new upload folder, marked in progress (and locked) until :meth:`finish` or :meth:`discard`."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        self.path.mkdir(parents=True)
        self._marker: IO | None = open(self.path / MARKER, "w")
        fcntl.flock(self._marker, fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(self) -> None:
        if self._marker is not None:
            fcntl.flock(self._marker, fcntl.LOCK_UN)
            self._marker.close()
            self._marker = None

    def finish(self) -> None:
        (self.path / MARKER).unlink(missing_ok=True)
        self._unlock()

    def discard(self) -> None:
        self._unlock()
        shutil.rmtree(self.path, ignore_errors=True)


def clean_orphans(root: Path) -> list[str]:
    """Remove upload folders left by killed uploads; returns their names."""
    removed: list[str] = []
    try:
        folders = [p for p in Path(root).iterdir() if p.is_dir() and (p / MARKER).exists()]
    except OSError:
        return removed
    for d in folders:
        try:
            with open(d / MARKER, "a") as f:
                try:
                    fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # an upload in progress (this process or another)
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d.name)
        except OSError:
            continue
    if removed:
        log.info("removed %d upload folder(s) of interrupted uploads: %s", len(removed), ", ".join(removed))
    return removed
