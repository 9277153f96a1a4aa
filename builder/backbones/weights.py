"""Pretrained weights in the Keras cache (``$KERAS_HOME/models``, default ``~/.keras/models``).

Online, ImageNet weights are downloaded once through Keras's own ``keras.utils.get_file`` (same URL, file
name, cache folder and hash check as ``keras.applications``). Offline, weights fetched on a connected machine
(``cellwright weights fetch NAME``) are copied over and put in the cache with ``cellwright weights import``.

``CELLWRIGHT_WEIGHTS_ORIGIN`` (a folder or a URL prefix such as ``https://mirror.example/keras``) makes
``fetch`` download ``ORIGIN/<weights file name>`` instead of the public URL, e.g. from a local mirror or an
institute server; the file name and Keras's hash check stay the same.

No TensorFlow or Keras import at module level (``h5py`` only inside functions).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from builder.backbones.catalog import BACKBONES, BackboneInfo, backbone_for_file, get_backbone
from builder.errors import WeightsError

#: Results of hash checks, keyed by (path, size, mtime): hashing a 100 MB file costs a fraction of a second.
_HASH_OK: dict[tuple[str, int, int], bool] = {}


def keras_home() -> Path:
    """The Keras home folder: ``$KERAS_HOME`` if set (read now, not at import), else ``~/.keras``.

    Like Keras, falls back to ``/tmp/.keras`` when the home folder is not writable.
    """
    env = os.environ.get("KERAS_HOME")
    if env:
        return Path(env).expanduser()
    home = Path("~").expanduser()
    return (home if os.access(home, os.W_OK) else Path("/tmp")) / ".keras"


def cache_dir() -> Path:
    """Folder holding downloaded weights: ``keras_home() / "models"`` (what ``keras.applications`` uses)."""
    return keras_home() / "models"


def weights_origin(info: BackboneInfo) -> str:
    """The URL ``fetch`` downloads ``info``'s file from: ``$CELLWRIGHT_WEIGHTS_ORIGIN/<file>`` if set, else Keras's.

    The variable may be a URL prefix (``https://...``, ``file:///...``) or a local folder.
    """
    origin = os.environ.get("CELLWRIGHT_WEIGHTS_ORIGIN", "").strip()
    if not origin:
        return info.weights_url
    if "://" not in origin:  # a local folder
        return (Path(origin).expanduser().resolve() / info.weights_file).as_uri()
    return origin.rstrip("/") + "/" + info.weights_file


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def matches_official(path: Path, info: BackboneInfo) -> bool | None:
    """True/False: the file has/lacks the hash Keras checks for it; None: Keras checks no hash for it."""
    if info.weights_hash is None:
        return None
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, int(stat.st_mtime_ns))
    if key not in _HASH_OK:
        algorithm = "sha256" if len(info.weights_hash) == 64 else "md5"  # the rule Keras's get_file applies
        _HASH_OK[key] = _digest(path, algorithm) == info.weights_hash
    return _HASH_OK[key]


def _fix_text(info: BackboneInfo) -> str:
    return (
        f"On a computer with internet, run `cellwright weights fetch {info.name}` (or download {info.weights_url}); "
        f"copy the file {info.weights_file} to this computer and run `cellwright weights import "
        f"{info.weights_file}`. Or set `weights: none` to train the backbone from scratch."
    )


def check_weights_file(path: Path, info: BackboneInfo) -> None:
    """Check ``path`` is an HDF5 Keras weights file holding the layers of backbone ``info``.

    Raises
    ------
    WeightsError
        If the file is not HDF5, not a Keras weights file, or lacks layers the backbone needs.
    """
    import h5py

    path = Path(path)
    if not path.is_file():
        raise WeightsError(str(path), "The weights file does not exist.", "Check the path (relative paths are "
                           "relative to the recipe's folder).")
    try:
        with h5py.File(path, "r") as f:
            group = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
            if "layer_names" in group.attrs:  # Keras 2 / legacy .h5 (what keras.applications publishes)
                names = {n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs["layer_names"]}
            elif "layers" in group:  # Keras 3 .weights.h5 (layers stored by path, no names to check)
                return
            else:
                raise WeightsError(str(path), "The file is HDF5 but holds no Keras model weights.",
                                   f"Use the file {info.weights_file} from {info.weights_url}.")
    except OSError as error:
        raise WeightsError(str(path), f"The file is not a readable HDF5 weights file ({error}).",
                           f"Download it again from {info.weights_url}.") from error
    missing = [n for n in info.tap_layer_names() if n not in names]
    if missing:
        raise WeightsError(
            str(path),
            f"The file does not hold the weights of backbone {info.name!r}: layers {missing} are missing.",
            f"Use the file {info.weights_file} (the no-top ImageNet weights of {info.constructor}).",
        )


def fetch(name: str, *, force: bool = False) -> Path:
    """Download the ImageNet weights of backbone ``name`` into the cache with ``keras.utils.get_file``.

    Raises
    ------
    WeightsError
        If the download fails (e.g. offline); names the URL, the file and the import command.
    """
    info = get_backbone(name)
    url = weights_origin(info)
    from keras.utils import get_file

    try:
        path = get_file(info.weights_file, url, cache_subdir="models", cache_dir=str(keras_home()),
                        file_hash=info.weights_hash, force_download=force)
    except Exception as error:  # urllib errors, hash mismatch, disk full: all told to the user the same way
        target = cache_dir() / info.weights_file
        if isinstance(error, ValueError) and target.is_file() and matches_official(target, info) is False:
            target.unlink()  # Keras keeps a downloaded file that failed its hash check: never keep or import it
        raise WeightsError(
            f"backbone {info.name}",
            f"Could not download {url} to {target}: {error}",
            _fix_text(info),
        ) from error
    return Path(path)


def resolve_weights(name: str, weights: str, *, base_dir: Path | None = None) -> Path | None:
    """The weights file to load for ``weights: imagenet | none | PATH`` (None for ``none``).

    ``imagenet`` uses the cached file when it is there (checked against Keras's hash when Keras has one) and
    downloads it through Keras otherwise.

    Raises
    ------
    WeightsError
        If the weights are missing and cannot be downloaded, or a given path does not exist.
    """
    info = get_backbone(name)
    if weights in (None, "none"):
        return None
    if weights != "imagenet":
        path = Path(weights).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        if not path.is_file():
            raise WeightsError(f"weights: {weights}", f"The weights file {path} does not exist.",
                               "Give the path of a weights file (.h5), or use `weights: imagenet` or `weights: none`.")
        return path
    path = cache_dir() / info.weights_file
    if path.is_file() and matches_official(path, info) is not False:
        return path
    if path.is_file():  # like Keras: a file with the wrong hash is downloaded again
        try:
            return fetch(info.name, force=True)
        except WeightsError as error:
            raise WeightsError(
                f"backbone {info.name}",
                f"The cached file {path} is not the official {info.weights_file} (its hash differs, the file may be "
                f"incomplete) and downloading it again failed: {error.what}",
                _fix_text(info) + " Use `cellwright weights import FILE --force` to replace the broken file.",
            ) from error
    return fetch(info.name)


@dataclass
class WeightsStatus:
    """One row of ``cellwright weights list``."""

    name: str
    file: str
    present: bool
    path: str
    size_mb: float | None
    official: bool | None  # hash check result; None when absent or Keras checks no hash
    url: str

    def to_dict(self) -> dict:
        return asdict(self)


def weights_status() -> list[WeightsStatus]:
    """Every backbone with its cache file name and whether that file is present (hashes are not checked)."""
    rows = []
    for info in BACKBONES.values():
        path = cache_dir() / info.weights_file
        present = path.is_file()
        rows.append(WeightsStatus(
            name=info.name, file=info.weights_file, present=present, path=str(path),
            size_mb=round(path.stat().st_size / 1e6, 1) if present else None, official=None, url=info.weights_url,
        ))
    return rows


@dataclass
class ImportResult:
    """What ``import_weights`` did with one file: ``copied``, ``already present`` or ``skipped`` (with why)."""

    source: str
    backbone: str | None
    action: str
    target: str | None = None
    note: str = ""


def _same_file_content(a: Path, b: Path) -> bool:
    if a.stat().st_size != b.stat().st_size:
        return False
    return _digest(a, "sha256") == _digest(b, "sha256")


def _plan_one(source: Path, *, force: bool) -> ImportResult:
    """Validate one file and decide what to do with it (``copy`` or ``already present``); copies nothing."""
    info = backbone_for_file(source.name)
    if info is None:
        known = ", ".join(i.weights_file for i in BACKBONES.values())
        raise WeightsError(str(source), f"{source.name!r} is not the weights file of a known backbone.",
                           f"Keep the file name Keras uses; expected one of: {known}.")
    check_weights_file(source, info)
    official = matches_official(source, info)
    note = {True: "matches the official file", False: "differs from the official file (hash)", None: ""}[official]
    target = cache_dir() / info.weights_file
    if target.is_file():
        if _same_file_content(source, target):
            return ImportResult(str(source), info.name, "already present", str(target), note)
        if not force:
            raise WeightsError(str(target), f"A different {info.weights_file} is already in the cache.",
                               f"Add --force to replace it with {source}.")
    if official is False and not force:
        raise WeightsError(str(source), f"The file is not the official {info.weights_file}: its hash differs from "
                           f"the one Keras checks ({info.weights_hash}), so it may be incomplete.",
                           f"Download it again from {info.weights_url}, or add --force to import it anyway.")
    return ImportResult(str(source), info.name, "copy", str(target), note)


def _copy_atomically(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)  # atomic: readers see the old file or the whole new one
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def import_weights(source: str | Path, *, force: bool = False) -> list[ImportResult]:
    """Copy a weights file, or every known weights file in a folder, into the cache atomically.

    Raises
    ------
    WeightsError
        If the path does not exist, a single file is not a known backbone's valid weights file, a different
        file with the same name is already cached (without ``force``), or a folder holds no known file.
    """
    source = Path(source).expanduser()
    if source.is_file():
        plans = [_plan_one(source, force=force)]
    elif source.is_dir():
        plans = []
        for path in sorted(p for p in source.iterdir() if p.is_file()):
            if backbone_for_file(path.name) is not None:
                plans.append(_plan_one(path, force=force))
            elif path.suffix == ".h5":
                plans.append(ImportResult(str(path), None, "skipped", note="not a known backbone file name"))
        if not any(plan.backbone for plan in plans):
            raise WeightsError(str(source), "The folder holds no weights file of a known backbone.",
                               "Run `cellwright weights list` to see the expected file names.")
    else:
        raise WeightsError(str(source), "No such file or folder.", "Give a weights file (.h5) or a folder of them.")
    for plan in plans:  # every file was checked before the first copy
        if plan.action == "copy" and plan.target is not None:
            _copy_atomically(Path(plan.source), Path(plan.target))
            plan.action = "copied"
    return plans
