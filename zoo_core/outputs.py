"""Where a run may write: never over a file without ``--force``, never over one of its inputs.

Every command that writes files asks here first, before loading a model or computing
anything, so a refused run costs nothing and leaves everything as it was. Files themselves
are written atomically (``zoo_core.atomic``): a run stopped part way (a full disk, Ctrl-C)
leaves only whole files, and ``--skip-existing`` continues it without redoing or clobbering
them.

For task authors this is a service (``zoo_core.Outputs`` and ``zoo_core.OutputPlan``): a task
declares what it writes with ``Task(outputs=Outputs(out=..., out_dir=...))`` and the core adds
``--out``, ``--out-dir``, ``--force`` and ``--skip-existing``; its runner asks
``context.plan_outputs(count=N)`` (numbered samples) or ``context.plan_outputs(inputs=files)``
(one file per input) before loading the model, and writes through the plan it gets
(``plan.write_each``, ``plan.save_image``...). No runner then writes a file by hand, and every
task keeps zoo's promises: nothing is overwritten without ``--force``, no input ever, only whole
files after a stop (Ctrl-C, a full disk), and ``--skip-existing`` continues a stopped run.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .architectures import Option
from .errors import InputError

if TYPE_CHECKING:
    from .running import RunContext

__all__ = ["IMAGE_FORMATS", "image_format", "check_output_file", "plan_folder", "FolderPlan", "NumberedNames",
           "make_folder", "same_file", "stopped_part_way", "Outputs", "OutputPlan", "Written", "LISTED_FILES",
           "FORCE", "SKIP_EXISTING", "remove_stale_temporaries"]

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
                      image: bool = True, suffixes: Sequence[str] | None = None) -> Path:
    """Check that the run may write ``path``: an image name (or one of ``suffixes``), a folder
    that exists, and no file to lose (unless ``force``; never one of ``inputs``)."""
    path = Path(path)
    image = image and (suffixes is None or set(suffixes) <= set(IMAGE_FORMATS))
    if image:
        image_format(path, option)
    elif suffixes and not path.name.lower().endswith(tuple(suffixes)):
        raise InputError(f"{option} {path}: this run writes {' or '.join(suffixes)} files; name the file "
                         f"accordingly, e.g. out{suffixes[0]}")
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


# ---------------------------------------------------------------------------------------------
# The output service tasks use: a declaration (``Outputs``) and a per-run plan (``OutputPlan``).

#: A folder run names the files it wrote, in its result and JSON document, up to this many;
#: beyond, it counts them (a run of millions of files keeps constant memory).
LISTED_FILES = 10_000

FORCE = Option("force", type="bool", default=False,
               help="overwrite output files that exist already (never the inputs)")
SKIP_EXISTING = Option("skip-existing", type="bool", default=False,
                       help="keep outputs that exist already and write the rest (continues an interrupted run)")

#: The temporary files ``zoo_core.atomic`` writes beside a target: ``.NAME.XXXXXXXX.tmp``.
#: ``write_atomic``'s temporaries: ``.NAME.PID-N.tmp``, or mkstemp's ``.NAME.XXXXXXXX.tmp``.
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.(?:(?P<pid>\d+)-\d+|[A-Za-z0-9_]{8})\.tmp")


@dataclass(frozen=True)
class Outputs:
    """What a task's runs write; the core turns it into the standard output options.

    ``Task(outputs=Outputs(out="write one grid image here", out_dir="write one file per
    image into this folder"))`` gives every model of the task ``--out`` (when ``out`` is set),
    ``--out-dir`` and ``--skip-existing`` (when ``out_dir`` is set) and ``--force``, with the
    help texts given. The runner reads them through ``RunContext.plan_outputs``, which
    enforces zoo's guarantees; a task never declares these options itself.

    Args:
        out: help of ``--out``, one file (a grid, the one output, a document); None: no ``--out``.
        out_dir: help of ``--out-dir``, one file per sample or per input; None: no folder output.
        suffixes: the file names ``--out`` may end in (images by default: .png, .jpg, .jpeg,
            .webp); e.g. ``(".safetensors",)`` for latents, ``(".json",)`` for a document.
        default: a function ``(model_name, options) -> dict`` of the output options ``zoo run``
            fills in when the user gave none (``{"out": Path(f"{name}.png")}``), or raises an
            ``InputError`` asking for one; ``options`` holds what was typed, by Python name, plus
            ``"inputs"`` (the positional values). The library (``zoo_core.run``) never calls
            it: it writes only what it is asked to. (Plugin API 2 spelled it
            ``Task(default_outputs=...)``.)
    """

    out: str | None = None
    out_dir: str | None = None
    suffixes: tuple[str, ...] = tuple(IMAGE_FORMATS)
    default: Callable[[str, Mapping[str, Any]], dict[str, Any]] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "suffixes", tuple(s.lower() for s in self.suffixes))
        from .errors import PluginError

        if self.out is None and self.out_dir is None:
            raise PluginError("Outputs: give out (help of --out) or out_dir (help of --out-dir), or both")
        if not self.suffixes or not all(s.startswith(".") for s in self.suffixes):
            raise PluginError(f"Outputs: suffixes must be like '.png', got {self.suffixes!r}")

    def options(self) -> list[Option]:
        """The options the core adds for this declaration, in the order ``--help`` shows them."""
        options = []
        if self.out is not None:
            options.append(Option("out", type="path", help=self.out))
        if self.out_dir is not None:
            options.append(Option("out-dir", type="path", help=self.out_dir))
        options.append(FORCE)
        if self.out_dir is not None:
            options.append(SKIP_EXISTING)
        return options

    @property
    def images(self) -> bool:
        """Whether ``--out`` is an image (its format then follows its suffix)."""
        return set(self.suffixes) <= set(IMAGE_FORMATS)


def remove_stale_temporaries(directory: Path, names: Sequence[str] | Callable[[str], bool]) -> int:
    """Delete zoo's own temporary files for ``names`` in ``directory``; how many were removed.

    A run killed outright (SIGKILL, a power cut) cannot clean up the ``.NAME.PID-N.tmp`` it
    was writing; the next run on the same outputs removes them. Only temporaries of the files
    this run itself would write are touched (``names``: those names, or a test on a name), and
    none of a process that is still running (one writing the same folder now).
    """
    from .folders import _alive

    directory = Path(directory)
    if not directory.is_dir():
        return 0
    wanted = names if callable(names) else (lambda name, _n=names: name in _n)  # type: ignore[misc]
    removed = 0
    with os.scandir(directory) as entries:
        for entry in entries:
            match = _TEMPORARY.fullmatch(entry.name)
            if match and wanted(match["name"]) and entry.is_file(follow_symlinks=False) \
                    and not (match["pid"] and _alive(int(match["pid"]))):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed += 1
    return removed


@dataclass
class Written:
    """What a folder run wrote: how many files, the first ``LISTED_FILES`` of them, and how many it kept."""

    count: int = 0
    listed: list[Path] = field(default_factory=list)
    kept: int = 0

    def add(self, path: Path) -> None:
        self.count += 1
        if len(self.listed) < LISTED_FILES:
            self.listed.append(path)

    def describe(self, data: dict[str, Any], directory: Path, key: str) -> None:
        """Record it in a JSON document: ``out_dir``, ``written``, ``kept`` and (up to the limit) ``key``."""
        data["out_dir"] = str(directory)
        data["written"] = self.count
        data["kept"] = self.kept
        if self.count <= LISTED_FILES:
            data[key] = [str(p) for p in self.listed]

    def line(self, directory: Path, what: str = "images") -> str:
        """``wrote N images to DIR (kept K that existed)``, for ``RunResult.lines``."""
        kept = f" (kept {self.kept} that existed)" if self.kept else ""
        return f"wrote {self.count} {what} to {directory}{kept}"


class OutputPlan:
    """The files one run writes, checked before any work; write them only through it.

    Made by ``RunContext.plan_outputs`` (or ``OutputPlan.make``) from the run's ``--out``,
    ``--out-dir``, ``--force`` and ``--skip-existing``. Attributes: ``out`` (the checked
    ``--out`` path or None), ``out_dir`` (or None), ``folder`` (the ``FolderPlan`` of
    ``--out-dir``, or None), ``force`` and ``skip_existing``.

    The guarantees: an output that exists refuses the run unless ``--force`` (or, in the
    folder, ``--skip-existing`` keeps it); an input is never written over, even with
    ``--force``; every file appears whole (written beside its target and renamed); a run
    stopped part way (Ctrl-C, a full disk) ends with one line saying how many files are whole
    and that ``--skip-existing`` continues it; stale temporaries of a killed run are removed.
    """

    def __init__(self, *, out: Path | None, out_dir: Path | None, folder: FolderPlan | None, force: bool,
                 skip_existing: bool, progress: Callable[..., Any] | None = None, label: str = "zoo") -> None:
        self.out, self.out_dir, self.folder = out, out_dir, folder
        self.force, self.skip_existing = force, skip_existing
        self._progress, self._label = progress, label

    @classmethod
    def make(cls, *, out: Path | None = None, out_dir: Path | None = None, force: bool = False,
             skip_existing: bool = False, count: int | None = None, inputs: Sequence[Path] = (),
             names: Sequence[str] | None = None, single: bool = False, suffixes: Sequence[str] = tuple(IMAGE_FORMATS),
             progress: Callable[..., Any] | None = None, label: str = "zoo") -> OutputPlan:
        """Check a run's outputs (see ``RunContext.plan_outputs`` for the arguments); refuses with
        an ``InputError`` before anything is written."""
        out = Path(out) if out is not None else None
        out_dir = Path(out_dir) if out_dir is not None else None
        inputs = [Path(p) for p in inputs]
        if force and skip_existing:
            raise InputError("--force and --skip-existing contradict each other; pass one")
        if skip_existing and out_dir is None:
            raise InputError("--skip-existing keeps the files of an --out-dir run that exist already; "
                             "it needs --out-dir")
        if single and out is not None:
            if out_dir is not None:
                raise InputError("--out writes one file and --out-dir one per input; pass one of them")
            if len(inputs) != 1:
                raise InputError(f"--out takes one input, got {len(inputs)}; use --out-dir for several")
        folder = None
        if out_dir is not None:
            if names is None:
                if count is not None:
                    names = NumberedNames(count)
                elif inputs:
                    names = [f"{p.stem}.png" for p in inputs]
                else:
                    raise InputError("--out-dir: this run writes no files one by one; use --out")
            folder = plan_folder(out_dir, names, force=force, skip_existing=skip_existing, inputs=inputs)
            remove_stale_temporaries(out_dir, folder.names.__contains__)
            folder.refuse_clash(out)
        if out is not None:
            check_output_file(out, option="--out", force=force, inputs=inputs, suffixes=suffixes)
            directory = out.parent if str(out.parent) else Path(".")
            remove_stale_temporaries(directory, [out.name])
        return cls(out=out, out_dir=out_dir, folder=folder, force=force, skip_existing=skip_existing,
                   progress=progress, label=label)

    def needs(self, index: int) -> bool:
        """Whether output ``index`` must be computed: False only for a file ``--skip-existing`` keeps
        when nothing else (an ``--out`` grid, the Python caller's value) needs it."""
        if self.folder is None or self.out is not None:
            return True
        return self.folder.target(index) is not None

    @property
    def kept(self) -> int:
        """How many ``--out-dir`` files ``--skip-existing`` keeps."""
        return len(self.folder.kept) if self.folder is not None else 0

    def check_kept(self, metadata: Mapping[str, str],
                   keys: Sequence[str] = ("model", "sha256", "seed", "label")) -> None:
        """Refuse to keep files another run made: each kept file's zoo metadata must match
        ``metadata`` on ``keys`` (those present in it). Call it once the model is loaded."""
        if self.folder is not None and self.folder.kept:
            self.folder.check_kept({k: str(v) for k, v in metadata.items() if k in keys})

    def write_each(self, items: Iterable[tuple[int, Any]],
                   write: Callable[[Path, Any], object] | None = None, *,
                   metadata: Mapping[str, str] | Callable[[int, Path], Mapping[str, str]] | None = None,
                   unit: str = "image") -> Written:
        """Write each ``(index, item)`` into ``--out-dir`` (those ``--skip-existing`` keeps are skipped).

        ``write(path, item)`` writes one file through this plan (e.g. ``plan.save_image``);
        by default ``item`` is a (1, C, H, W) image in [-1, 1] saved with ``metadata`` (a
        mapping, or a function ``(index, path) -> mapping``). Files are encoded and written on
        background threads while ``items`` makes the next ones (``write`` runs there too, so
        it must not touch the runner's state). A progress bar counts the files; a stop part
        way (Ctrl-C, a full disk) waits for the files being written, becomes one
        ``InputError`` saying how many are whole, and a run that wrote nothing leaves no
        empty folder behind.
        """
        def jobs() -> Iterator[tuple[Path, Callable[..., Any], tuple[Any, ...]]]:
            for index, item in items:
                path = self._folder_target(index)
                if path is None:
                    continue
                if write is not None:
                    yield path, write, (path, item)
                else:
                    meta = metadata(index, path) if callable(metadata) else (metadata or {})
                    yield path, self._save_image_pixels, (None, item, path, meta)

        return self._write_jobs(jobs(), unit)

    def write_batches(self, batches: Iterable[tuple[int, Any]], *,
                      metadata: Mapping[str, str] | Callable[[int, Path], Mapping[str, str]] | None = None,
                      unit: str = "image") -> Written:
        """Write batches of images into ``--out-dir``: each ``(start, images)`` holds (N, C, H, W)
        images in [-1, 1] for outputs ``start`` ... ``start + N - 1``.

        As ``write_each``, but each batch is turned into 8-bit pixels once (one numpy pass,
        pixel for pixel what ``save_image`` writes), then each image is encoded and written in
        the background while the next batch is made.
        """
        from .images import uint8_pixels

        def jobs() -> Iterator[tuple[Path, Callable[..., Any], tuple[Any, ...]]]:
            for start, images in batches:
                wanted = [(start + offset, self._folder_target(start + offset)) for offset in range(len(images))]
                if all(path is None for _, path in wanted):
                    continue
                pixels = uint8_pixels(images)
                for offset, (index, path) in enumerate(wanted):
                    if path is not None:
                        meta = metadata(index, path) if callable(metadata) else (metadata or {})
                        yield path, self._save_image_pixels, (pixels[offset], None, path, meta)

        return self._write_jobs(jobs(), unit)

    def _folder_target(self, index: int) -> Path | None:
        if self.folder is None or self.out_dir is None:
            raise InputError("this run has no --out-dir to write into")
        return self.folder.target(index)

    def _save_image_pixels(self, pixels: Any, image: Any, path: Path, metadata: Mapping[str, str]) -> Path:
        if pixels is None:
            from .images import uint8_pixels

            pixels = uint8_pixels(image[:1] if image.ndim == 4 else image.unsqueeze(0))[0]
        from .images import save_pixels

        kind = IMAGE_FORMATS.get(path.suffix.lower())  # None: save_pixels names the suffix it cannot write
        return save_pixels(pixels, path, metadata, image_format=kind, overwrite=self.force)

    def _write_jobs(self, jobs: Iterator[tuple[Path, Callable[..., Any], tuple[Any, ...]]], unit: str) -> Written:
        """Run ``(path, job, args)`` on background writers; count and list the paths in order."""
        from .writer import BackgroundWriter, writer_threads

        if self.folder is None or self.out_dir is None:
            raise InputError("this run has no --out-dir to write into")
        folder, directory = self.folder, self.out_dir
        created = not directory.exists()
        make_folder(directory)
        written = Written(kept=len(folder.kept))
        progress = self._progress or _no_progress
        workers = writer_threads()

        def done(path: Path, bar: Any) -> None:
            written.add(path)
            bar.update(1)

        def job(path: Path, work: Callable[..., Any], args: tuple[Any, ...]) -> Path:
            work(*args)
            return path

        writer = BackgroundWriter(workers=workers, pending=8 * max(1, workers))
        try:
            with progress(folder.todo, f"{self._label} -> {directory}", unit=unit) as bar:
                try:
                    for path, work, args in jobs:
                        for finished in writer.submit(job, path, work, args):
                            done(finished, bar)
                    for finished in writer.finish():
                        done(finished, bar)
                except BaseException:
                    for finished in writer.abandon():  # the files being written when it stopped are whole
                        done(finished, bar)
                    raise
                finally:
                    writer.close()
        except BaseException as exc:
            if created and not written.count:
                with contextlib.suppress(OSError):
                    directory.rmdir()  # a run that wrote nothing leaves no empty folder behind
            if not isinstance(exc, (OSError, KeyboardInterrupt)) or not written.count:
                raise
            raise stopped_part_way("--out-dir", directory, written.kept + written.count, len(folder), exc) from exc
        return written

    def _target(self, path: Path | None) -> Path:
        if path is None:
            if self.out is None:
                raise InputError("this run has no --out to write")
            return self.out
        return Path(path)

    def save_image(self, image: Any, path: Path | None = None, metadata: Mapping[str, str] | None = None, *,
                   alpha: Any = None) -> Path:
        """Write a (1, C, H, W) image in [-1, 1] to ``path`` (default ``--out``) atomically, in the
        format its suffix names, with ``metadata`` in its text chunks; never over a file that
        appeared since the plan was made unless ``--force``."""
        from .images import save_image

        return save_image(image, self._target(path), metadata, alpha=alpha, overwrite=self.force)

    def save_tensors(self, tensors: Mapping[str, Any], path: Path | None = None,
                     metadata: Mapping[str, str] | None = None) -> Path:
        """Write tensors to a .safetensors file (default ``--out``) atomically."""
        from .writing import save_tensors

        return save_tensors(tensors, self._target(path), metadata)

    def save_bytes(self, data: bytes | str, path: Path | None = None) -> Path:
        """Write text or bytes (a JSON document, a CSV) to ``path`` (default ``--out``) atomically."""
        from .atomic import write_atomic

        target = self._target(path)
        try:
            write_atomic(target, data, overwrite=self.force)
        except FileExistsError:
            raise InputError(f"{target}: a file of that name appeared while zoo was working (another run?); it "
                             "was left alone: pass --force to overwrite it, or choose another name") from None
        return target


@contextlib.contextmanager
def _no_progress(total: int, description: str, unit: str = "it") -> Iterator[Any]:
    from .progress import NoProgress

    yield NoProgress()
