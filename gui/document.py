"""The open recipe: one mapping shared by the graph, the inspector and the YAML view.

Every edit, wherever it comes from, is one :class:`SnapshotCommand` on the document's ``QUndoStack``:
it holds the mapping before and after, so undo/redo works the same for a dragged block, a changed
number in a form or typed YAML. Views listen to :attr:`RecipeDocument.changed` and redraw; the
``origin`` argument lets the view that made the edit skip redrawing itself (no echo loops).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from builder.errors import Problem
from builder.tasks import DEFAULT_TASK
from gui import recipe_io
from gui.graph_editor.template_state import fingerprint

Positions = dict[str, tuple[float, float]]


class SnapshotCommand(QUndoCommand):
    """Replace the whole recipe mapping (and node positions); undo puts the old ones back."""

    def __init__(self, doc: RecipeDocument, before: dict[str, Any], after: dict[str, Any], text: str,
                 origin: str, merge_key: str = "", positions: tuple[Positions, Positions] | None = None) -> None:
        super().__init__(text)
        self.doc, self.before, self.after, self.origin, self.merge_key = doc, before, after, origin, merge_key
        self.positions = positions
        self._first = True

    def id(self) -> int:
        return 1 if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SnapshotCommand) or other.merge_key != self.merge_key:
            return False
        self.after = other.after
        if other.positions is not None:
            self.positions = (self.positions or other.positions)[0], other.positions[1]
        return True

    def redo(self) -> None:
        origin = self.origin if self._first else "undo"
        self._first = False
        self.doc._replace(self.after, origin, self.positions[1] if self.positions else None)

    def undo(self) -> None:
        self.doc._replace(self.before, "undo", self.positions[0] if self.positions else None)


class RecipeDocument(QObject):
    """A recipe being edited: its mapping, node positions, file path, problems and undo history."""

    changed = Signal(str)  # origin of the change: "graph", "inspector", "yaml", "undo", "load", ...
    problems_changed = Signal(list)
    dirty_changed = Signal(bool)
    path_changed = Signal(str)

    def __init__(self, data: dict[str, Any] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data: dict[str, Any] = data if data is not None else recipe_io.new_recipe(DEFAULT_TASK)
        self.positions: Positions = {}
        self.path: Path | None = None
        self.problems: list[Problem] = []
        self.yaml_problems: list[Problem] = []
        #: graph fingerprint -> (template name, params) for graphs made by expanding a template
        self.template_origins: dict[str, tuple[str, dict[str, Any]]] = {}
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._validate()

    def _on_clean_changed(self, clean: bool) -> None:
        self.dirty_changed.emit(not clean)

    # ----------------------------------------------------------------- editing
    def apply(self, new_data: dict[str, Any], text: str, origin: str = "", merge_key: str = "",
              positions: Positions | None = None) -> None:
        """Make ``new_data`` the recipe as one undoable step named ``text``."""
        before_pos = dict(self.positions)
        after_pos = {**before_pos, **positions} if positions is not None else None
        if after_pos is not None:
            after_pos = {key: value for key, value in after_pos.items() if key in self._graph_ids(new_data)}
        command = SnapshotCommand(self, copy.deepcopy(self.data), copy.deepcopy(new_data), text, origin, merge_key,
                                  (before_pos, after_pos) if after_pos is not None else None)
        self.undo_stack.push(command)

    def move_nodes(self, positions: Positions, text: str = "Move blocks") -> None:
        """Record new positions of nodes as one undoable step (the recipe itself does not change)."""
        before = dict(self.positions)
        command = SnapshotCommand(self, copy.deepcopy(self.data), copy.deepcopy(self.data), text, "graph", "",
                                  (before, {**before, **positions}))
        self.undo_stack.push(command)

    def set_text(self, text: str) -> None:
        """Take YAML typed by the user: when it parses, it becomes the recipe (merged into one undo step)."""
        data, problems = recipe_io.parse_text(text, self.display_name)
        if data is None:
            self.yaml_problems = problems
            self.problems_changed.emit(self.all_problems())
            return
        self.yaml_problems = []
        if data != self.data:
            self.apply(data, "Edit YAML", origin="yaml", merge_key="yaml")
        else:
            self.problems_changed.emit(self.all_problems())

    def set_value(self, keys: tuple[str, ...], value: Any, origin: str = "inspector") -> None:
        """Set one recipe key (dotted path as a tuple); ``None`` removes it so the default applies."""
        if recipe_io.get_path(self.data, keys) == value:
            return
        new = recipe_io.set_path(self.data, keys, value)
        self.apply(new, f"Change {'.'.join(keys)}", origin=origin, merge_key="value:" + ".".join(keys))

    def _replace(self, data: dict[str, Any], origin: str, positions: Positions | None) -> None:
        self.data = copy.deepcopy(data)
        if positions is not None:
            self.positions = dict(positions)
        self._validate()
        self.changed.emit(origin)

    # ----------------------------------------------------------------- graph helpers
    @property
    def graph(self) -> list[dict[str, Any]] | None:
        """The explicit model graph, or ``None`` when the model is a template."""
        model = self.data.get("model") or {}
        graph = model.get("graph") if isinstance(model, dict) else None
        return graph if isinstance(graph, list) else None

    def with_graph(self, nodes: list[dict[str, Any]]) -> dict[str, Any]:
        """A copy of the recipe whose model is the explicit graph ``nodes``."""
        data = copy.deepcopy(self.data)
        model = data.get("model") if isinstance(data.get("model"), dict) else {}
        model = {key: value for key, value in model.items() if key not in ("template", "params")}
        model["graph"] = copy.deepcopy(nodes)
        data["model"] = model
        return data

    def remember_template(self, name: str, params: dict[str, Any], nodes: list[dict[str, Any]]) -> None:
        """Note that ``nodes`` is what template ``name`` with ``params`` expands to (so it may collapse back)."""
        self.template_origins[fingerprint(nodes)] = (name, copy.deepcopy(params))

    def template_origin(self, nodes: list[dict[str, Any]] | None = None) -> tuple[str, dict[str, Any]] | None:
        """``(template, params)`` when ``nodes`` (default: the current graph) is an unedited expansion."""
        nodes = self.graph if nodes is None else nodes
        return self.template_origins.get(fingerprint(nodes)) if nodes is not None else None

    @staticmethod
    def _graph_ids(data: dict[str, Any]) -> set[str]:
        model = data.get("model") or {}
        graph = model.get("graph") if isinstance(model, dict) else None
        return {str(node.get("id")) for node in graph or [] if isinstance(node, dict)}

    # ----------------------------------------------------------------- validation
    def _validate(self) -> None:
        self.problems = recipe_io.validate_data(self.data, self.display_name)
        self.problems_changed.emit(self.all_problems())

    def all_problems(self) -> list[Problem]:
        return list(self.yaml_problems) + list(self.problems)

    # ----------------------------------------------------------------- files
    @property
    def display_name(self) -> str:
        return self.path.name if self.path else "untitled.yaml"

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    def text(self) -> str:
        return recipe_io.dump_text(self.data)

    def load(self, path: str | Path) -> None:
        """Open a recipe file (a file with problems still opens, so they can be fixed here)."""
        from builder.recipe.load import read_recipe_text

        path = Path(path)
        text = read_recipe_text(path)  # refuses binary, unreadable and huge files with a CellwrightError
        data, problems = recipe_io.parse_text(text, path.name)
        if data is None:
            from builder.errors import RecipeError

            raise RecipeError(problems, str(path))
        self.path = path
        self.data = data
        self.template_origins = {}
        self.positions = self._read_layout(path)
        self.yaml_problems = []
        self.undo_stack.clear()
        self._validate()
        self.path_changed.emit(str(path))
        self.changed.emit("load")

    def reset(self, data: dict[str, Any]) -> None:
        """Start a new, untitled recipe."""
        self.path = None
        self.data = copy.deepcopy(data)
        self.positions = {}
        self.template_origins = {}
        self.undo_stack.clear()
        self.undo_stack.resetClean()
        self.undo_stack.setClean()
        self._validate()
        self.path_changed.emit("")
        self.changed.emit("load")
        # A new recipe has never been saved: mark it as unsaved work.
        self.undo_stack.push(QUndoCommand("New recipe"))

    def save(self, path: str | Path | None = None) -> Path:
        """Write the recipe atomically (plus node positions in a small side file)."""
        target = Path(path) if path else self.path
        if target is None:
            raise ValueError("No file name given for an untitled recipe.")
        recipe_io.atomic_write(target, self.text())
        origin = self.template_origin()
        if self.positions or origin:
            layout: dict[str, Any] = {key: list(value) for key, value in self.positions.items()}
            if origin is not None:  # lets "collapse to template" work again after reopening the file
                layout["#template"] = {"fingerprint": fingerprint(self.graph or []), "template": origin[0],
                                       "params": origin[1]}
            recipe_io.atomic_write(self._layout_path(target), json.dumps(layout, indent=1))
        old_autosave = recipe_io.autosave_path(self.path)
        if old_autosave.exists():
            old_autosave.unlink()
        if target != self.path:
            self.path = target
            self.path_changed.emit(str(target))
        self.undo_stack.setClean()
        return target

    def autosave(self) -> Path | None:
        """Write unsaved work to the side file; returns its path (``None`` when nothing to save)."""
        if not self.dirty:
            return None
        return recipe_io.atomic_write(recipe_io.autosave_path(self.path), self.text())

    @staticmethod
    def _layout_path(path: Path) -> Path:
        return path.with_name(f".{path.name}.layout.json")

    def _read_layout(self, path: Path) -> Positions:
        try:
            raw = json.loads(self._layout_path(path).read_text(encoding="utf-8"))
            origin = raw.pop("#template", None)
            if isinstance(origin, dict) and {"fingerprint", "template"} <= set(origin):
                self.template_origins[str(origin["fingerprint"])] = (str(origin["template"]),
                                                                     dict(origin.get("params") or {}))
            return {str(key): (float(value[0]), float(value[1])) for key, value in raw.items()}
        except (OSError, ValueError, TypeError, IndexError, AttributeError):
            return {}
