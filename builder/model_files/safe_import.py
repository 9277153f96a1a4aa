"""Open shared models without trusting them.

Rules: every zip entry is checked before anything is extracted (no absolute paths, no ``..``, no links,
bounded size); checksums are verified before a file is used; Keras models are loaded with
``safe_mode=True`` after their configuration has been scanned for Python code (``Lambda`` layers,
serialised functions, classes from outside Keras/Cellwright); NumPy files are read with
``allow_pickle=False``; YAML with ``safe_load``. Nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from builder.errors import ExportError

#: Largest total size of a shared archive once extracted.
MAX_EXTRACTED_BYTES = 8 * 1024**3
#: Name of the checksum list inside a Cellwright bundle (``sha256sum -c`` format).
MANIFEST_NAME = "MANIFEST.sha256"
#: Python modules whose classes a shared Keras model may name.
_ALLOWED_MODULE_PREFIXES = ("keras", "builder.")

_LAMBDA_FIX = (
    "Cellwright refuses models containing Python code. Ask the author to rebuild the model without Lambda "
    "layers (Cellwright blocks cover the usual operations) and export it again."
)


def sha256_file(path: Path) -> str:
    """Return the SHA-256 hex digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_zip_entries(archive: zipfile.ZipFile, where: str) -> list[zipfile.ZipInfo]:
    """Return the archive's entries after refusing unsafe ones (before anything is extracted).

    Raises
    ------
    ExportError
        For an absolute path, a ``..`` component, a link, or an archive too large once extracted.
    """
    entries = archive.infolist()
    total = 0
    for info in entries:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise ExportError(
                where,
                f"The archive contains the entry {name!r}, which points outside the folder it is unpacked into "
                "(absolute path or '..'). Such archives can overwrite files elsewhere (zip-slip).",
                "Do not use this file; ask its author for a fresh export.",
            )
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ExportError(where, f"The archive contains a symbolic link {name!r}; links are not accepted.",
                              "Ask the author for an export without links.")
        total += info.file_size
    if total > MAX_EXTRACTED_BYTES:
        raise ExportError(where, f"The archive would unpack to {total / 1024**3:.1f} GiB (limit "
                          f"{MAX_EXTRACTED_BYTES / 1024**3:.0f} GiB).", "Check that this is really a model archive.")
    return entries


def safe_extract(zip_path: Path, dest: Path) -> Path:
    """Extract ``zip_path`` into ``dest`` after :func:`check_zip_entries`; return ``dest``."""
    zip_path, dest = Path(zip_path), Path(dest)
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ExportError(str(zip_path), f"This is not a readable zip archive ({exc}).",
                          "Check the file was copied completely.") from exc
    with archive:
        entries = check_zip_entries(archive, str(zip_path))
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        for info in entries:
            target = (root / PurePosixPath(info.filename.replace("\\", "/"))).resolve()
            if root != target and root not in target.parents:  # belt and braces after the name check
                raise ExportError(str(zip_path), f"Entry {info.filename!r} leaves the target folder.",
                                  "Do not use this file.")
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
    return dest


def read_manifest(folder: Path) -> dict[str, str]:
    """Read ``MANIFEST.sha256`` (``<sha256>  <relative path>`` lines) from ``folder``."""
    path = Path(folder) / MANIFEST_NAME
    if not path.is_file():
        raise ExportError(str(folder), f"No {MANIFEST_NAME} found; this is not a Cellwright bundle or it was "
                          "modified.", "Export the model again with 'cellwright export --format bundle'.")
    entries: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            raise ExportError(f"{path}:{number}", f"Expected '<sha256>  <file>'. Received: {line!r}",
                              "The manifest was edited; use the original bundle.")
        entries[name] = digest
    return entries


def verify_manifest(folder: Path, where: str | None = None) -> dict[str, str]:
    """Check every file in ``folder`` against ``MANIFEST.sha256``; unlisted or changed files are refused."""
    folder = Path(folder)
    where = where or str(folder)
    expected = read_manifest(folder)
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()} - {MANIFEST_NAME}
    missing = sorted(set(expected) - present)
    extra = sorted(present - set(expected))
    if missing:
        raise ExportError(where, f"Files listed in the manifest are missing: {', '.join(missing)}.",
                          "The bundle is incomplete; copy it again or ask for a fresh export.")
    if extra:
        raise ExportError(where, f"Files not listed in the manifest were added: {', '.join(extra)}.",
                          "The bundle was modified after export; use the original file.")
    for name, digest in expected.items():
        actual = sha256_file(folder / name)
        if actual != digest:
            raise ExportError(
                f"{where}:{name}",
                f"Checksum mismatch: {name} was changed after export (SHA-256 {actual[:12]}... instead of "
                f"{digest[:12]}...).",
                "Do not use this bundle; copy the original again or ask its author for a fresh export.",
            )
    return expected


def read_keras_config(path: Path) -> Any:
    """The model configuration of a ``.keras`` file (``config.json``) or an ``.h5`` full model, without Keras."""
    if path.suffix == ".keras":
        with zipfile.ZipFile(path) as archive:
            check_zip_entries(archive, str(path))
            return json.loads(archive.read("config.json"))
    import h5py

    with h5py.File(path, "r") as handle:
        raw = handle.attrs.get("model_config")
    if raw is None:
        raise ExportError(str(path), "This HDF5 file holds no model configuration (weights only?).",
                          "Share the whole model (.keras) instead.")
    return json.loads(raw.decode() if isinstance(raw, bytes) else raw)


def scan_keras_config(config: Any, where: str) -> None:
    """Refuse configurations that would run Python code when loaded (Lambda, functions, foreign classes)."""
    stack = [config]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        cls = node.get("class_name")
        name = (node.get("config") or {}).get("name") if isinstance(node.get("config"), dict) else None
        if cls == "Lambda":
            raise ExportError(where, f"The model contains a Lambda layer ({name!r}), i.e. Python code that would "
                              "run when the model is loaded.", _LAMBDA_FIX)
        if cls in ("function", "__lambda__"):
            raise ExportError(where, "The model contains a serialised Python function, i.e. code that would run "
                              "when the model is loaded.", _LAMBDA_FIX)
        module = node.get("module")
        if isinstance(module, str) and cls and not module.startswith(_ALLOWED_MODULE_PREFIXES):
            raise ExportError(where, f"The model uses the class {cls!r} from the Python module {module!r}, which "
                              "is neither Keras nor Cellwright.", _LAMBDA_FIX)
        stack.extend(node.values())


def _register_cellwright_layers() -> None:
    """Import Cellwright's block modules so its registered custom layers can be deserialised."""
    import importlib
    import pkgutil

    for package_name in ("builder.blocks", "builder.backbones"):
        try:
            package = importlib.import_module(package_name)
        except ImportError:
            continue
        for info in pkgutil.iter_modules(getattr(package, "__path__", [])):
            try:
                importlib.import_module(f"{package_name}.{info.name}")
            except Exception:  # a broken optional module must not block loading standard models
                continue


def load_keras_safely(path: Path) -> Any:
    """Load a ``.keras`` or ``.h5`` model without running code from the file.

    Raises
    ------
    ExportError
        For a model with Lambda layers or unknown classes, or a file Keras cannot read.
    """
    path = Path(path)
    if path.suffix not in (".keras", ".h5", ".hdf5"):
        raise ExportError(str(path), f"Expected a .keras or .h5 model file. Received: {path.name}",
                          "Export the model from Cellwright or Keras 3 with model.save('model.keras').")
    scan_keras_config(read_keras_config(path), str(path))
    _register_cellwright_layers()
    import keras

    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:
        text = str(exc)
        if "Lambda" in text or "safe_mode" in text:
            raise ExportError(str(path), "The model contains Python code (e.g. a Lambda layer) that would run "
                              "when loaded.", _LAMBDA_FIX) from exc
        raise ExportError(str(path), f"Keras could not load this model: {text.splitlines()[0][:300]}",
                          "The model may need a newer Cellwright or a custom layer it does not know.") from exc


def load_array(path: Path) -> np.ndarray:
    """Read a ``.npy`` file without unpickling (object arrays are refused)."""
    try:
        return np.load(Path(path), allow_pickle=False)
    except ValueError as exc:
        raise ExportError(str(path), "This .npy file holds Python objects, which Cellwright never unpickles.",
                          "Share plain numeric arrays only.") from exc


def load_yaml(path: Path) -> Any:
    """Read YAML with ``safe_load`` (no Python object tags)."""
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ExportError(str(path), f"Not valid YAML: {exc}", "Use the original file.") from exc
