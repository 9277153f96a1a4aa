"""The export formats: one registry that the CLI, the recipe, the GUI export dialog and the export job read.

A format is one module in :mod:`builder.export.formats` that decorates its writer::

    @register_format("onnx", label="ONNX (runs in many tools without TensorFlow)", suffix=".onnx",
                     needs=("tf2onnx", "onnxruntime"))
    def write(request: ExportRequest) -> FormatResult:
        ...  # write request.path, re-run it on request.test_input, return the checks

Every module of that package is imported the first time the registry is read, so adding a format means
adding its module (and its test): nothing else names the formats. Importing this module does not import
TensorFlow; writers import what they need when called.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from builder.errors import ExportError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class ExportRequest:
    """What a writer gets: the model, its metadata, where to write, the test input and the tolerance."""

    model: Any
    metadata: Any
    path: Path
    test_input: Any
    tolerance: float
    report: Path | None = None
    companions: dict[str, Path] = field(default_factory=dict)  # models the network needs beside it, by file name
    onnx_copy: Path | None = None  # the run's ONNX copy of this model (prediction without TensorFlow), if fresh


@dataclass
class FormatResult:
    """What a writer returns: the re-run checks (at least one) and format-specific extras for the result."""

    checks: list[Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExportFormat:
    """One registered export format.

    Attributes
    ----------
    name : str
        Key used by ``--format``, ``export.formats`` and the GUI (lower case, digits, ``_``).
    label : str
        One line for the GUI's check box.
    suffix : str
        Appended to the model's file stem (``".onnx"``, ``"_savedmodel"``).
    needs : tuple of str
        Python modules the writer imports; a missing one is refused before anything is written.
    write : callable
        ``write(ExportRequest) -> FormatResult``; writes ``request.path`` and re-runs it on the test input.
    order : int
        Position in lists (CLI choices, GUI check boxes); ties are sorted by name.
    """

    name: str
    label: str
    suffix: str
    write: Callable[[ExportRequest], FormatResult]
    needs: tuple[str, ...] = ()
    order: int = 100

    def target(self, out_dir: Path, stem: str) -> Path:
        """Where this format writes a model named ``stem`` in ``out_dir``."""
        return Path(out_dir) / f"{stem}{self.suffix}"

    def missing_needs(self) -> list[str]:
        """The modules in :attr:`needs` that are not installed."""
        missing = []
        for module in self.needs:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append(module)
        return missing


_FORMATS: dict[str, ExportFormat] = {}
_DISCOVERED = False


def register_format(name: str, *, label: str, suffix: str, needs: tuple[str, ...] = (),
                    order: int = 100) -> Callable[[Callable[[ExportRequest], FormatResult]], Any]:
    """Decorator registering ``write`` as the writer of format ``name``; returns the writer unchanged.

    Raises
    ------
    ValueError
        On a duplicate or malformed name, an empty label or suffix (at import, so a broken format never ships).
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"Invalid value received for argument `name`. Expected lower-case letters, digits and _, "
                         f"starting with a letter. Received: name={name!r}")
    if not label or not suffix:
        raise ValueError(f"Export format {name!r} needs a `label` and a `suffix`. Received: label={label!r}, "
                         f"suffix={suffix!r}")

    def decorate(write: Callable[[ExportRequest], FormatResult]) -> Callable[[ExportRequest], FormatResult]:
        if not callable(write):
            raise ValueError(f"Export format {name!r}: expected a writer function. Received: {write!r}")
        if name in _FORMATS and _FORMATS[name].write is not write:
            raise ValueError(f"Export format {name!r} is registered twice "
                             f"({_FORMATS[name].write.__module__} and {write.__module__}).")
        _FORMATS[name] = ExportFormat(name, label, suffix, write, tuple(needs), order)
        return write

    return decorate


def unregister_format(name: str) -> None:
    """Remove format ``name`` (tests that register a temporary format)."""
    _FORMATS.pop(name, None)


def all_formats() -> dict[str, ExportFormat]:
    """Every registered format, by name, in display order."""
    _discover()
    return dict(sorted(_FORMATS.items(), key=lambda item: (item[1].order, item[0])))


def format_names() -> list[str]:
    """The names of :func:`all_formats`, in display order."""
    return list(all_formats())


def unknown_format_message(names: list[str]) -> str:
    """``Expected one of ... Received: ...``, with the nearest valid name for each unknown one."""
    valid = format_names()
    hints = [f" (did you mean {close[0]!r}?)" if (close := difflib.get_close_matches(n, valid, n=1)) else ""
             for n in names]
    received = ", ".join(f"{n!r}{h}" for n, h in zip(names, hints, strict=True))
    return f"Expected one of {', '.join(valid)}. Received: {received}"


def get_format(name: str, where: str = "--format") -> ExportFormat:
    """The format ``name``; an :class:`ExportError` naming the valid ones when it is unknown."""
    formats = all_formats()
    if name not in formats:
        raise ExportError(where, unknown_format_message([name]), "Pick formats from the list.")
    return formats[name]


def _discover() -> None:
    """Import every module of :mod:`builder.export.formats` once (each registers its format)."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    _DISCOVERED = True
    package = importlib.import_module("builder.export.formats")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package.__name__}.{info.name}")
