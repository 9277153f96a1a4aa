"""The lineage of a tracking run as a clickable tree: time runs left to right, one row per track, forks are divisions.

Rows come from :func:`builder.tracking.tree.tree_rows` (the report's lineage figure uses the same layout) and
colours from :mod:`builder.tracking.colours` (the same as the player's outlines and tails). Clicking a track's
line emits :attr:`LineageView.track_clicked` with its id and the frame clicked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from builder.tracking.colours import track_colour
from builder.tracking.tree import tree_rows

#: Pixels per row (track) and the margins around the tree.
ROW_HEIGHT = 9
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 12, 46


class LineageView(QWidget):
    """Paints the lineage of ``tracks`` (mappings with label, begin, end, parent; frames relative or absolute)."""

    track_clicked = Signal(int, int)  # track id, frame clicked

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tracks: list[dict[str, int]] = []
        self.rows: dict[int, float] = {}
        self.first = self.last = 0
        self.selected = 0
        self.current_frame: int | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)

    def set_tracks(self, tracks: Sequence[Mapping[str, Any]]) -> None:
        """Show the lineage of ``tracks`` (an empty list shows a note)."""
        self.tracks = [{k: int(t.get(k) or 0) for k in ("label", "begin", "end", "parent")} for t in tracks]
        self.rows = tree_rows(self.tracks)
        self.first = min((t["begin"] for t in self.tracks), default=0)
        self.last = max((t["end"] for t in self.tracks), default=0)
        self.selected = 0
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(600, TOP + BOTTOM + ROW_HEIGHT * max(len(self.rows), 4))

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.sizeHint().height())

    # ----------------------------------------------------------------- geometry
    def x_of(self, frame: float) -> float:
        span = max(self.last + 1 - self.first, 1)
        return LEFT + (frame - self.first) / span * max(self.width() - LEFT - RIGHT, 1)

    def frame_at(self, x: float) -> int:
        span = max(self.last + 1 - self.first, 1)
        return int((x - LEFT) / max(self.width() - LEFT - RIGHT, 1) * span + self.first)

    def y_of(self, label: int) -> float:
        return TOP + (self.rows.get(label, 0.0) + 0.5) * ROW_HEIGHT

    def track_at(self, point: QPointF) -> int:
        """Id of the track whose line is at ``point`` (0: none)."""
        frame = self.frame_at(point.x())
        best, distance = 0, ROW_HEIGHT * 0.75
        for t in self.tracks:
            if t["begin"] - 0.5 <= frame <= t["end"] + 1 and abs(self.y_of(t["label"]) - point.y()) < distance:
                best, distance = t["label"], abs(self.y_of(t["label"]) - point.y())
        return best

    # ----------------------------------------------------------------- painting
    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202326"))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if not self.tracks:
            painter.setPen(QColor("#c8ccd2"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No tracks in this run.")
            return
        by_label = {t["label"]: t for t in self.tracks}
        painter.setPen(QPen(QColor(150, 150, 150), 1))
        for t in self.tracks:
            mother = by_label.get(t["parent"])
            if mother is not None:
                painter.drawLine(QPointF(self.x_of(mother["end"] + 1), self.y_of(mother["label"])),
                                 QPointF(self.x_of(t["begin"]), self.y_of(t["label"])))
        for t in self.tracks:
            r, g, b = track_colour(t["label"])
            wide = t["label"] == self.selected
            painter.setPen(QPen(QColor.fromRgbF(r, g, b), 5 if wide else 3, Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.FlatCap))
            y = self.y_of(t["label"])
            painter.drawLine(QPointF(self.x_of(t["begin"]), y), QPointF(self.x_of(t["end"] + 1), y))
        self._axis(painter)
        painter.end()

    def _axis(self, painter: QPainter) -> None:
        bottom = self.height() - BOTTOM + 6
        painter.setPen(QColor("#c8ccd2"))
        painter.drawLine(QPointF(LEFT, bottom), QPointF(self.width() - RIGHT, bottom))
        span = self.last + 1 - self.first
        step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if span / s <= 10)
        start = -(-self.first // step) * step
        for frame in range(start, self.last + 2, step):
            x = self.x_of(frame)
            painter.drawLine(QPointF(x, bottom), QPointF(x, bottom + 4))
            painter.drawText(QRectF(x - 20, bottom + 4, 40, 16), Qt.AlignmentFlag.AlignCenter, str(frame))
        painter.drawText(QRectF(0, bottom + 21, self.width(), 16), Qt.AlignmentFlag.AlignCenter,
                         "frame (each line is one cell; a fork is a division)")
        if self.current_frame is not None:
            painter.setPen(QPen(QColor(255, 255, 255, 140), 1, Qt.PenStyle.DashLine))
            x = self.x_of(self.current_frame + 0.5)
            painter.drawLine(QPointF(x, TOP), QPointF(x, bottom))

    # ----------------------------------------------------------------- mouse
    def mouseMoveEvent(self, event) -> None:
        label = self.track_at(event.position())
        track = next((t for t in self.tracks if t["label"] == label), None)
        self.setToolTip("" if track is None else f"Track {label}: frames {track['begin']} to {track['end']}"
                        + (f", daughter of {track['parent']}" if track["parent"] else ""))
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event) -> None:
        label = self.track_at(event.position())
        if label and event.button() == Qt.MouseButton.LeftButton:
            self.selected = label
            track = next(t for t in self.tracks if t["label"] == label)
            frame = min(max(self.frame_at(event.position().x()), track["begin"]), track["end"])
            self.update()
            self.track_clicked.emit(label, frame)
        super().mousePressEvent(event)

    def show_frame(self, frame: int | None) -> None:
        """Mark ``frame`` (the player's current frame) with a vertical line."""
        self.current_frame = frame
        self.update()


class LineagePane(QWidget):
    """The results page's lineage tab: the tree over the player of the run's tracked test frames.

    Clicking a track in the tree selects it in the player and shows the frame clicked; the tree marks the
    player's current frame. A run scored on several sequences shows one at a time, chosen in :attr:`sequences`.
    """

    def __init__(self, parent=None) -> None:
        from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QScrollArea, QSplitter, QVBoxLayout

        from gui.pages.track_player import TrackPlayer

        super().__init__(parent)
        self.run: Any = None
        self.sequences = QComboBox()
        self.sequences.setToolTip("The test sequence whose lineage and frames are shown")
        self.sequence_label = QLabel("Sequence")
        self.sequences.currentTextChanged.connect(self._sequence_chosen)
        self.view = LineageView()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.view)
        self.player = TrackPlayer()
        self.note = QLabel("")
        self.note.setObjectName("hint")
        self.note.setWordWrap(True)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.scroll)
        split.addWidget(self.player)
        split.setSizes([260, 440])
        column = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.sequence_label)
        top.addWidget(self.sequences)
        top.addWidget(self.note, 1)
        column.addLayout(top)
        column.addWidget(split, 1)
        self.offset = 0
        self.view.track_clicked.connect(self._clicked)
        self.player.frame_changed.connect(lambda t: self.view.show_frame(t + self.offset))

    def set_run(self, run: Any) -> bool:
        """Show the lineage (and test frames) of a tracking run folder, its first sequence first; False when it
        has no tracks."""
        from builder.tracking.movie import run_sequences

        self.run = run
        try:
            names = run_sequences(run)
        except Exception:  # an older or damaged run: show_sequence says why
            names = []
        self.sequences.blockSignals(True)
        self.sequences.clear()
        self.sequences.addItems(names)
        self.sequences.blockSignals(False)
        for widget in (self.sequences, self.sequence_label):
            widget.setVisible(len(names) > 1)
        return self.show_sequence(names[0] if names else None)

    def _sequence_chosen(self, name: str) -> None:
        if self.run is not None and name:
            self.show_sequence(name)

    def show_sequence(self, sequence: str | None) -> bool:
        """Show the lineage and test frames of one sequence of the run (None: its first); False when none."""
        from builder.tracking.movie import movie_from_run

        if sequence is not None and self.sequences.currentText() != sequence:
            self.sequences.blockSignals(True)
            self.sequences.setCurrentText(sequence)
            self.sequences.blockSignals(False)
        try:
            movie, tracks, offset = movie_from_run(self.run, sequence)
        except Exception as error:  # an older or damaged run: the tab says why instead of failing the page
            self.view.set_tracks([])
            self.player.set_movie(None, f"Cannot show this run's tracks: {error}")
            self.note.setText("")
            return False
        self.offset = self.player.frame_offset = offset
        self.view.set_tracks(tracks)
        self.player.set_movie(movie, "The run's evaluated test frames are not in its folder.")
        divisions = sum(1 for p in {t["parent"] for t in tracks if t.get("parent")}
                        if sum(t.get("parent") == p for t in tracks) > 1)
        where = f"sequence {sequence}, " if self.sequences.count() > 1 else ""
        self.note.setText(f"{len(tracks)} tracks and {divisions} divisions found in the test frames ({where}frames "
                          f"{offset} to {offset + (movie.n_frames - 1 if movie else 0)} of the sequence). Click a "
                          "track to see it in the frames below.")
        if movie is not None:
            self.view.show_frame(offset)
        return bool(tracks)

    def _clicked(self, label: int, frame: int) -> None:
        if self.player.movie is not None:
            self.player.select_track(label, frame - self.offset)
