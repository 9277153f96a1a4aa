"""The YAML view: the recipe text, kept in sync with the graph and forms in both directions.

Typing updates the document after a short pause (when the text parses); changes made elsewhere
replace the text unless they came from this view (no echo, the cursor stays where it is).
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QFont, QFontDatabase, QSyntaxHighlighter, QTextCharFormat
from PySide6.QtWidgets import QLabel, QListWidget, QPlainTextEdit, QVBoxLayout, QWidget

from gui.document import RecipeDocument


class _Highlighter(QSyntaxHighlighter):
    """Keys in blue, comments in grey: enough colour to read a recipe quickly."""

    def __init__(self, document) -> None:
        super().__init__(document)
        self.key = QTextCharFormat()
        self.key.setForeground(QColor("#1d4ed8"))
        self.comment = QTextCharFormat()
        self.comment.setForeground(QColor("#6b7280"))

    def highlightBlock(self, text: str) -> None:
        stripped = text.lstrip(" -")
        start = len(text) - len(stripped)
        if stripped.startswith("#"):
            self.setFormat(start, len(stripped), self.comment)
            return
        colon = stripped.find(":")
        if colon > 0 and not stripped.startswith(("'", '"')):
            self.setFormat(start, colon, self.key)


class YamlView(QWidget):
    """Editable recipe text plus a list of problems (line numbers point into the text)."""

    DELAY_MS = 400

    def __init__(self, doc: RecipeDocument, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.editor = QPlainTextEdit()
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(font.pointSizeF(), 9.5))
        font.setStyleHint(QFont.StyleHint.Monospace)
        self.editor.setFont(font)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTabStopDistance(self.editor.fontMetrics().horizontalAdvance(" ") * 2)
        self._highlighter = _Highlighter(self.editor.document())
        self.problems = QListWidget()
        self.problems.setObjectName("problems")
        self.problems.setMaximumHeight(110)
        self.problems.setWordWrap(True)
        title = QLabel("Recipe (YAML)")
        title.setObjectName("panelTitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(title)
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.problems)
        self._timer = QTimer(self, singleShot=True, interval=self.DELAY_MS)
        self._timer.timeout.connect(self.commit)
        self._updating = False
        self.editor.textChanged.connect(self._on_typed)
        self.problems.itemActivated.connect(self._jump)
        doc.changed.connect(self._on_doc_changed)
        doc.problems_changed.connect(self.show_problems)
        self.set_text(doc.text())
        self.show_problems(doc.all_problems())

    def set_text(self, text: str) -> None:
        """Replace the text without treating it as a user edit."""
        if text == self.editor.toPlainText():
            return
        self._updating = True
        bar = self.editor.verticalScrollBar().value()
        self.editor.setPlainText(text)
        self.editor.verticalScrollBar().setValue(bar)
        self._updating = False

    def _on_doc_changed(self, origin: str) -> None:
        if origin != "yaml":
            self._timer.stop()
            self.set_text(self.doc.text())

    def _on_typed(self) -> None:
        if not self._updating:
            self._timer.start()

    def commit(self) -> None:
        """Send the typed text to the document now (normally after a short pause in typing)."""
        self._timer.stop()
        self.doc.set_text(self.editor.toPlainText())

    def show_problems(self, problems: list) -> None:
        self.problems.clear()
        if not problems:
            self.problems.addItem("✓ The recipe is valid.")
            self.problems.item(0).setForeground(QColor("#2b8a3e"))
            return
        for problem in problems:
            self.problems.addItem(("⚠ " if problem.severity == "warning" else "✕ ") + problem.format())
            item = self.problems.item(self.problems.count() - 1)
            item.setForeground(QColor("#b45309" if problem.severity == "warning" else "#c1121f"))
            item.setData(256, problem.line)

    def _jump(self, item) -> None:
        line = item.data(256)
        if line:
            block = self.editor.document().findBlockByLineNumber(int(line) - 1)
            cursor = self.editor.textCursor()
            cursor.setPosition(block.position())
            self.editor.setTextCursor(cursor)
            self.editor.setFocus()
