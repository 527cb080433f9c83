"""Listing an MLflow artifact tree (a run's, a logged model's) without downloading it.

MLflow lists one folder per call; the run details need every file below a folder, with
its size, and must stay quick on a run with thousands of artifacts, so the walk can stop
after a number of files and says whether it saw everything.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from mlflow.entities import FileInfo

ListFolder = Callable[[str | None], list[FileInfo]]
"""``MlflowClient.list_artifacts`` or ``list_logged_model_artifacts`` bound to one id."""


@dataclass(frozen=True)
class Listing:
    """Files found by :func:`walk_files`; ``complete`` is false when it stopped early."""

    files: list[FileInfo]
    complete: bool

    def below(self, folder: str) -> list[FileInfo]:
        """The files inside ``folder`` (at any depth); ``""`` is the root: all of them."""
        if not folder:
            return list(self.files)
        prefix = folder.rstrip("/") + "/"
        return [f for f in self.files if f.path.startswith(prefix)]


def walk_files(
    list_folder: ListFolder, root: str | None = None, limit: int | None = None
) -> Listing:
    """Every file under ``root``, breadth first, at most ``limit`` of them.

    Breadth first, so a capped walk still shows the top of the tree, which is where a
    run keeps what a user looks for (notebook, plots, model folders).
    """
    files: list[FileInfo] = []
    folders: deque[str | None] = deque([root])
    while folders and (limit is None or len(files) < limit):
        for entry in list_folder(folders.popleft()):
            if entry.is_dir:
                folders.append(entry.path)
            else:
                files.append(entry)
    complete = not folders and (limit is None or len(files) <= limit)
    return Listing(files if limit is None else files[:limit], complete)


def total_size(files: list[FileInfo]) -> int | None:
    """The bytes ``files`` take, or None when the store did not report a file's size."""
    sizes = [f.file_size for f in files]
    if any(size is None for size in sizes):
        return None
    return sum(size for size in sizes if size is not None)
