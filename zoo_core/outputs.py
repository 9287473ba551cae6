"""Where a run may write: never over a file without ``--force``, never over one of its inputs.

Every command that writes files asks here first, before loading a model or computing
anything, so a refused run costs nothing and leaves everything as it was. Files themselves
are written atomically (``zoo_core.atomic``): a run stopped part way (a full disk, Ctrl-C)
leaves only whole files, and ``--skip-existing`` continues it without redoing or clobbering
them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["IMAGE_FORMATS", "image_format", "check_output_file", "plan_folder", "FolderPlan", "NumberedNames",
           "make_folder", "same_file", "stopped_part_way"]

#: Image file suffixes zoo writes, and the format each is written in.
IMAGE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}


def image_format(path: Path, option: str) -> str:
    """The format ``path``'s suffix asks for; an ``InputError`` naming the option for any other suffix."""
    suffix = Path(path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        written = ", ".join(IMAGE_FORMATS)
        got = f"'{suffix}'" if suffix else "no suffix"
        raise InputError(f"{option} {path}: images are written as {written} ({got} given); name the file "
                         "accordingly, e.g. out.png")
    return IMAGE_FORMATS[suffix]


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (through links, '..' and case-insensitive file systems)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).absolute().resolve() == Path(b).absolute().resolve()


def _is_input(path: Path, inputs: Iterable[Path]) -> bool:
    return any(same_file(path, source) for source in inputs)


def check_output_file(path: Path, *, option: str, force: bool, inputs: Sequence[Path] = (),
                      image: bool = True) -> Path:
    """Check that the run may write ``path``: an image name, a folder that exists, and no file to
    lose (unless ``force``; never one of ``inputs``)."""
    path = Path(path)
    if image:
        image_format(path, option)
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; give a file name" + (" ending in .png" if image else ""))
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{option} {path}: folder {directory} does not exist; create it first")
    if path.exists():
        if _is_input(path, inputs):
            raise InputError(f"{option} {path}: is one of the inputs; zoo never writes over its inputs, even with "
                             "--force: choose another name")
        if not force:
            raise InputError(f"{option} {path}: already exists; pass --force to overwrite it, or choose another name")
    return path


class NumberedNames(Sequence[str]):
    """``00000.png``, ``00001.png``, ... for ``count`` outputs, without building the list (a run of
    a hundred million samples plans its folder in constant memory)."""

    def __init__(self, count: int, suffix: str = ".png") -> None:
        self._count, self.suffix = count, suffix

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return f"{index % self._count:05d}{self.suffix}"

    def index(self, name: Any, start: int = 0, stop: int | None = None) -> int:
        stem = str(name)[: -len(self.suffix)] if str(name).endswith(self.suffix) else ""
        if stem.isdigit() and len(stem) >= 5 and f"{int(stem):05d}" == stem and int(stem) < self._count:
            return int(stem)
        raise ValueError(name)

    def __contains__(self, name: object) -> bool:
        try:
            self.index(name)
        except ValueError:
            return False
        return True


class FolderPlan:
    """Which files of a folder run to write: ``target(i)`` is the path for output ``i``, or None
    where an existing file is kept (``--skip-existing``)."""

    def __init__(self, directory: Path, names: Sequence[str], kept: set[int]) -> None:
        self.directory, self.names, self.kept = Path(directory), names, kept

    def __len__(self) -> int:
        return len(self.names)

    def target(self, index: int) -> Path | None:
        return None if index in self.kept else self.directory / self.names[index]

    def __getitem__(self, index: int) -> Path | None:
        return self.target(index)

    def holds(self, path: Path) -> bool:
        """Whether ``path`` is one of the files this folder run writes (or keeps)."""
        path = Path(path)
        return path.name in self.names and same_file(path.parent, self.directory)

    def refuse_clash(self, path: Path | None, option: str = "--out") -> None:
        """An ``InputError`` when ``path`` (another output of the same run) is one of this run's files."""
        if path is not None and self.holds(path):
            raise InputError(f"{option} {path}: is also one of the --out-dir files; the run would write it twice: "
                             "choose another name")

    def check_kept(self, expected: Mapping[str, str], *, limit: int = 1000) -> None:
        """Refuse to keep files another run wrote: each kept file's zoo metadata (model, weights
        sha256, seed...) must equal ``expected`` (the first ``limit`` kept files are read)."""
        from PIL import Image

        for index in sorted(self.kept)[:limit]:
            path = self.directory / self.names[index]
            try:
                with Image.open(path) as image:
                    found = {k[4:]: str(v) for k, v in getattr(image, "text", {}).items() if k.startswith("zoo:")}
            except (OSError, SyntaxError, ValueError) as exc:
                raise InputError(f"--skip-existing: {path} is damaged, not an image this run can keep ({exc}); "
                                 "delete it and rerun, or pass --force to overwrite every file") from None
            differ = [f"{key} {found.get(key, 'none')!r}, not {value!r}" for key, value in expected.items()
                      if found.get(key) != value]
            if differ:
                raise InputError(f"--skip-existing: {path} was not written by this run ({'; '.join(differ)}); "
                                 "continue in the folder of the run that made it, or pass --force to overwrite")

    @property
    def todo(self) -> int:
        return len(self.names) - len(self.kept)

    def written(self) -> list[str]:
        """The paths this run writes, as strings (for JSON)."""
        return [str(self.directory / n) for i, n in enumerate(self.names) if i not in self.kept]


def plan_folder(directory: Path, names: Sequence[str], *, option: str = "--out-dir", force: bool,
                skip_existing: bool, inputs: Sequence[Path] = ()) -> FolderPlan:
    """Which of ``names`` to write into ``directory``; refuses the run before anything is written.

    Files that exist already are kept with ``skip_existing``, overwritten with ``force``,
    and otherwise refuse the whole run. A name that would land on one of ``inputs`` is
    refused even with ``force``. Only the folder's existing entries are examined, so
    ``names`` may be a ``NumberedNames`` of any length.
    """
    directory = Path(directory)
    if force and skip_existing:
        raise InputError("--force and --skip-existing contradict each other; pass one")
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{option} {directory}: is a file; name a folder")
    if not isinstance(names, NumberedNames) and len(set(names)) != len(names):
        seen: set[str] = set()
        twice = next(n for n in names if n in seen or seen.add(n))  # type: ignore[func-returns-value]
        raise InputError(f"{option} {directory}: two outputs would both be named {twice!r} (inputs with the same base "
                         "name in different folders); run them separately")
    present = sorted(os.listdir(directory)) if directory.is_dir() else []
    lookup = names if isinstance(names, NumberedNames) else {n: i for i, n in enumerate(names)}
    existing: dict[int, str] = {}
    for name in present:
        if name in lookup:
            existing[names.index(name) if isinstance(names, NumberedNames) else lookup[name]] = name  # type: ignore[index]
    for name in existing.values():
        if _is_input(directory / name, inputs):
            raise InputError(f"{option} {directory}: {name} is one of the inputs; zoo never writes over its inputs, "
                             "even with --force: choose another folder")
    if existing and not force and not skip_existing:
        shown = sorted(existing.values())
        listed = ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")
        raise InputError(f"{option} {directory}: {len(shown)} of {len(names)} outputs exist already ({listed}); "
                         "pass --skip-existing to keep them and write the rest (e.g. to continue an interrupted run), "
                         "or --force to overwrite them")
    return FolderPlan(directory, names, set() if force else set(existing))


def make_folder(directory: Path, option: str = "--out-dir") -> Path:
    """Create ``directory`` (and parents) for outputs; an ``InputError`` naming ``option`` if it cannot be."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{option} {directory}: cannot create it ({exc.strerror or exc})") from exc
    return directory


def stopped_part_way(option: str, directory: Path, written: int, total: int, exc: BaseException) -> InputError:
    """The error for a folder run that stopped after ``written`` whole files (a full disk, say)."""
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return InputError(f"{option} {directory}: stopped after writing {written} of {total} files ({reason}); every file "
                      "written is whole: free the problem and rerun with --skip-existing to write the rest")
