"""Play a tracked time-lapse: frames with each cell's track id, its recent path (tail) and its division links.

:class:`TrackViewer` is the image viewer plus a vector overlay: tails are polylines (:class:`QPolygonF`) in
screen coordinates, drawn over the rendered image each repaint (the image itself is never re-rendered for
them), so playing 1024² frames costs one image render plus a few hundred short lines per frame.
:class:`TrackPlayer` adds play/pause (a :class:`QTimer`), frame stepping on the viewer's t axis, the tail length
and the track id labels. The track data comes from :mod:`builder.tracking.movie` (no Qt there).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from builder.tracking.colours import track_colours
from builder.tracking.movie import TrackMovie
from gui.schema_form import guard_wheel
from gui.viewer import ImageViewer, LabelLayer

#: Frames per second when playing.
DEFAULT_FPS = 5
#: Frames of path drawn behind each cell.
DEFAULT_TAIL = 10


def _colours_for(count: int) -> np.ndarray:
    """Track colours for ids below ``count`` (kept: every frame of a movie asks for about the same table)."""
    table = _colours_for.__dict__.get("table")
    if table is None or len(table) < count:
        table = _colours_for.__dict__["table"] = track_colours(max(count, 1024))
    return table[:count]


class TrackLabels(LabelLayer):
    """A label layer whose colours are the tracks' fixed colours (the same as their tails and the lineage)."""

    def changed(self) -> None:
        self._areas = None  # counted when the hover asks (not on every played frame)
        colours = _colours_for((int(self.labels.max()) if self.labels.size else 0) + 1)
        self._colours = colours
        wide = colours.astype(np.uint32)
        self._argb = np.uint32(0xFF000000) | (wide[:, 0] << 16) | (wide[:, 1] << 8) | wide[:, 2]
        self._argb[0] = 0

    def area(self, label: int) -> int:
        if self._areas is None:
            self._areas = np.bincount(self.labels.ravel(), minlength=2)  # track ids are never negative
        return super().area(label)


def qcolour(label: int) -> QColor:
    """The fixed colour of track ``label``."""
    r, g, b = _colours_for(label + 1)[label].tolist()
    return QColor(r, g, b)


class TrackViewer(ImageViewer):
    """An :class:`ImageViewer` that draws the tracks of a :class:`TrackMovie` over the current frame."""

    track_clicked = Signal(int)  # track id under a click (0: none)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.movie: TrackMovie | None = None
        self.tail_length = DEFAULT_TAIL
        self.show_ids = True
        self.selected = 0
        self._shown_t = -1
        self.auto_fit = True  # fit the whole frame on resize until the user zooms or pans

    def set_movie(self, movie: TrackMovie | None, message: str = "") -> None:
        """Show ``movie`` from its first frame (None clears the view and shows ``message``)."""
        self.movie, self.selected, self._shown_t, self.auto_fit = movie, 0, -1, True
        if movie is None:
            self.clear(message or "No time-lapse.")
            return
        self.set_image(movie.frames, axes="TYXC")
        layer = TrackLabels("tracks", movie.labels[0], opacity=0.6, outline=True)
        self.layers.append(layer)
        self.current_index = 0
        self.sync_frame()
        self.image_changed.emit()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        self.auto_fit = False
        super().set_zoom(zoom, anchor)

    def pan_by(self, dx: float, dy: float) -> None:
        self.auto_fit = False
        super().pan_by(dx, dy)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.auto_fit and self.image is not None:
            self.fit()

    @property
    def frame(self) -> int:
        return self.image.t if self.image is not None else 0

    def sync_frame(self) -> None:
        """Give the label layer the current frame's labels (any t control may have moved the t axis)."""
        if self.movie is None or self.image is None or not self.layers or self._shown_t == self.image.t:
            return
        layer = self.layers[0]
        layer.labels = self.movie.labels[self.image.t]
        layer.changed()
        self._shown_t = self.image.t

    # ----------------------------------------------------------------- overlay
    def _point(self, centre: tuple[float, float]) -> QPointF:
        return self.image_to_widget(QPointF(centre[1] + 0.5, centre[0] + 0.5))

    def _polygon(self, points: list[tuple[float, float]]) -> QPolygonF:
        """Image (y, x) points as a screen polyline (plain arithmetic: tails are short, NumPy would be slower)."""
        origin, zoom = self.image_to_widget(QPointF(0.5, 0.5)), self.zoom
        ox, oy = origin.x(), origin.y()
        return QPolygonF([QPointF(x * zoom + ox, y * zoom + oy) for y, x in points])

    def tail_lines(self) -> dict[int, QPolygonF]:
        """Screen-space tail (polyline) of every track in the current frame; one point when it has no past."""
        lines: dict[int, QPolygonF] = {}
        if self.movie is None or self.image is None:
            return lines
        t = self.image.t
        for label in self.movie.centroids(t):
            lines[label] = self._polygon(self.movie.tail(label, t, self.tail_length))
        return lines

    def division_lines(self) -> dict[int, QPolygonF]:
        """Lines from each mother's last position to its daughters born within the tail length (by daughter id)."""
        out: dict[int, QPolygonF] = {}
        if self.movie is None or self.image is None:
            return out
        for mother, daughter, label in self.movie.division_links(self.image.t, max(self.tail_length, 1)):
            out[label] = self._polygon([mother, daughter])
        return out

    def paintEvent(self, event) -> None:
        self.sync_frame()
        super().paintEvent(event)
        if self.movie is None or self.image is None:
            return
        # Few painter calls per track: each void call of PySide6 6.12 on Python 3.11 drops a reference to None
        # (see the notes), and fewer calls also keep 1024² frames with hundreds of cells fast.
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        width = 2.0 if self.zoom < 2 else 3.0
        for label, line in self.division_lines().items():
            painter.setPen(QPen(qcolour(label), width, Qt.PenStyle.DashLine))
            painter.drawPolyline(line)
        for label, line in self.tail_lines().items():
            if line.size() > 1:
                painter.setPen(QPen(qcolour(label), width * (2 if label == self.selected else 1)))
                painter.drawPolyline(line)
        centres = self.movie.centroids(self.image.t)
        if self.show_ids and centres:
            font = painter.font()
            font.setPixelSize(11)
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(QColor(255, 255, 255))
            centre = int(Qt.AlignmentFlag.AlignCenter)
            spots = self._polygon(list(centres.values()))
            for label, at in zip(centres, spots, strict=True):
                painter.drawText(QRectF(at.x() - 18, at.y() - 8, 36, 16), centre, str(label))
        if self.selected and self.selected in centres:
            painter.setPen(QPen(QColor(255, 255, 0), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawEllipse(self._point(centres[self.selected]), 14, 14)
        painter.end()

    def mouseReleaseEvent(self, event) -> None:
        if self.movie is not None and self.image is not None and event.button() == Qt.MouseButton.LeftButton:
            point = self.widget_to_image(event.position())
            x, y = int(point.x()), int(point.y())
            if 0 <= y < self.image.height and 0 <= x < self.image.width:
                self.track_clicked.emit(int(self.movie.labels[self.image.t, y, x]))
        super().mouseReleaseEvent(event)


class TrackPlayer(QWidget):
    """A :class:`TrackViewer` with play/pause, frame stepping, tail length and track ids."""

    frame_changed = Signal(int)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.viewer = TrackViewer()
        self.viewer.message = "No time-lapse: choose a tracking data set or open a tracking result."
        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Play the time-lapse (space)")
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))
        self.back, self.forward = QPushButton(), QPushButton()
        self.back.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipBackward))
        self.forward.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaSkipForward))
        self.back.setToolTip("Previous frame")
        self.forward.setToolTip("Next frame")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.frame_label = QLabel("")
        self.tail = QSpinBox()
        self.tail.setRange(0, 200)
        self.tail.setValue(DEFAULT_TAIL)
        self.tail.setSuffix(" frames")
        self.tail.setToolTip("Length of the path drawn behind each cell")
        self.fps = QSpinBox()
        self.fps.setRange(1, 30)
        self.fps.setValue(DEFAULT_FPS)
        self.fps.setSuffix(" frames/s")
        self.ids = QCheckBox("Track numbers")
        self.ids.setChecked(True)
        #: Number of the movie's first frame in its sequence (test frames of a run start later); frames are shown
        #: with the numbers of the CTC file names (t000.tif is frame 0).
        self.frame_offset = 0
        self.summary = QLabel("")
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)
        for widget in (self.slider, self.tail, self.fps):
            guard_wheel(widget)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.play_button.clicked.connect(self.toggle)
        self.back.clicked.connect(lambda: self.step(-1))
        self.forward.clicked.connect(lambda: self.step(1))
        self.slider.valueChanged.connect(self.set_frame)
        self.tail.valueChanged.connect(self._style)
        self.ids.toggled.connect(self._style)
        self.fps.valueChanged.connect(lambda v: self.timer.setInterval(int(1000 / v)))
        transport = QHBoxLayout()
        for widget in (self.back, self.play_button, self.forward):
            transport.addWidget(widget)
        transport.addWidget(self.slider, 1)
        transport.addWidget(self.frame_label)
        options = QHBoxLayout()
        options.addWidget(QLabel("Tail"))
        options.addWidget(self.tail)
        options.addWidget(QLabel("Speed"))
        options.addWidget(self.fps)
        options.addWidget(self.ids)
        options.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.viewer, 1)
        column.addLayout(transport)
        column.addLayout(options)
        column.addWidget(self.summary)
        self.set_movie(None)

    @property
    def movie(self) -> TrackMovie | None:
        return self.viewer.movie

    def set_movie(self, movie: TrackMovie | None, message: str = "") -> None:
        """Show ``movie`` (stopped, at its first frame); None shows ``message`` instead."""
        self.pause()
        self.viewer.set_movie(movie, message)
        count = movie.n_frames if movie is not None else 1
        self.slider.blockSignals(True)
        self.slider.setRange(0, count - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        for widget in (self.play_button, self.back, self.forward, self.slider):
            widget.setEnabled(movie is not None and count > 1)
        self.summary.setText("" if movie is None else
                             f"{movie.n_frames} frames · {len(movie.tracks)} tracks · {movie.n_divisions()} "
                             "divisions. Lines are each cell's recent path; dashed lines join a mother to its "
                             "daughters.")
        self._frame_text()

    def set_frame(self, t: int) -> None:
        """Show frame ``t`` (0-based; clipped to the movie)."""
        image = self.viewer.image
        if self.movie is None or image is None:
            return
        t = int(min(max(t, 0), self.movie.n_frames - 1))
        image.t = t
        self.viewer.sync_frame()
        if self.slider.value() != t:
            self.slider.blockSignals(True)
            self.slider.setValue(t)
            self.slider.blockSignals(False)
        self._frame_text()
        self.viewer.update()
        self.frame_changed.emit(t)

    def step(self, delta: int) -> None:
        self.set_frame(self.viewer.frame + delta)

    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        if self.movie is None or self.movie.n_frames < 2:
            return
        if self.viewer.frame >= self.movie.n_frames - 1:
            self.set_frame(0)
        self.timer.start(int(1000 / self.fps.value()))
        self.play_button.setText("Pause")
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPause))

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")
        self.play_button.setIcon(self.style().standardIcon(QStyle.StandardPixmap.SP_MediaPlay))

    def toggle(self) -> None:
        self.pause() if self.playing() else self.play()

    def select_track(self, label: int, frame: int | None = None) -> None:
        """Highlight track ``label`` and show ``frame`` (its first frame when None)."""
        self.viewer.selected = int(label)
        row = self.movie.track(label) if self.movie is not None else None
        if frame is None and row is not None:
            frame = row.begin
        if frame is not None:
            self.set_frame(frame)
        self.viewer.update()

    def _tick(self) -> None:
        if self.movie is None:
            self.pause()
            return
        self.set_frame((self.viewer.frame + 1) % self.movie.n_frames)

    def _style(self, *_args) -> None:
        self.viewer.tail_length = self.tail.value()
        self.viewer.show_ids = self.ids.isChecked()
        self.viewer.update()

    def _frame_text(self) -> None:
        movie = self.movie
        first = self.frame_offset
        self.frame_label.setText("" if movie is None else
                                 f"frame {self.viewer.frame + first} ({first} to {movie.n_frames - 1 + first})")

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space:
            self.toggle()
        elif event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Period):
            self.step(1)
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Comma):
            self.step(-1)
        else:
            super().keyPressEvent(event)


def ctc_sequence_of(image: Path) -> tuple[Path, str] | None:
    """(data set root, sequence name) when ``image`` is a frame of a Cell Tracking Challenge sequence."""
    folder = Path(image).parent
    if folder.name.isdigit() and (folder.parent / f"{folder.name}_GT").is_dir():
        return folder.parent, folder.name
    return None


class MovieLoader(QObject):
    """Reads a :class:`TrackMovie` in a worker thread and hands it to the GUI thread (:attr:`done`).

    Reading a whole sequence takes seconds (65 SIM+ frames: about 6 s); the window keeps painting and answering
    meanwhile. Only the latest request counts: a movie that finishes after a newer request was made is dropped.
    """

    done = Signal(int, object, str, str)  # request number, movie (None on failure), error text, caption

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.request = 0
        self.threads: list[threading.Thread] = []

    def load(self, make: Callable[[], TrackMovie], caption: str) -> int:
        """Start reading ``make()`` in a worker thread; returns the request number :attr:`done` will carry."""
        self.request += 1
        number = self.request
        thread = threading.Thread(target=self._work, args=(number, make, caption), daemon=True,
                                  name=f"timelapse-loader-{number}")
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()
        return number

    def busy(self) -> bool:
        return any(t.is_alive() for t in self.threads)

    def _work(self, number: int, make: Callable[[], TrackMovie], caption: str) -> None:
        from builder.errors import CellwrightError

        movie, message = None, ""
        try:
            movie = make()
        except CellwrightError as error:
            message = error.format()
        except (OSError, ValueError, MemoryError) as error:
            message = f"{type(error).__name__}: {error}"
        with contextlib.suppress(RuntimeError):  # the pane was closed while reading
            self.done.emit(number, movie, message, caption)  # queued to the GUI thread


class TimelapsePane(QWidget):
    """The data page's time-lapse tab: plays the CTC sequence of the chosen frame, or an opened tracking result.

    Loading waits until the tab is shown (:meth:`follow` only remembers the sequence), so browsing single frames
    does not read whole sequences. Sequences are read in a worker thread (:class:`MovieLoader`) while the player
    says what is being read; :attr:`loaded` tells when a movie is shown (True) or could not be read (False).
    """

    loaded = Signal(bool)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.player = TrackPlayer()
        self.open_button = QPushButton("Open tracking result…")
        self.open_button.setToolTip("A folder with res_track.txt and mask000.tif ... (the tracks/ folder that "
                                    "'Predict' writes for a time-lapse)")
        self.open_button.clicked.connect(self._choose_result)
        self.source = QLabel("")
        self.source.setObjectName("hint")
        self.wanted: tuple[Path, str] | None = None
        self.loaded_sequence: tuple[Path, str] | None = None
        self.wanted_frame = 0
        self.loader = MovieLoader(self)
        self.loader.done.connect(self._arrived)
        self._pending = 0  # request number of the movie being read (0: none)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.source, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.player, 1)

    def loading(self) -> bool:
        """Whether a movie is being read."""
        return bool(self._pending)

    def follow(self, image: Path, frame: int | None = None) -> bool:
        """Remember the sequence of ``image`` (a CTC frame) to play; True when it is one."""
        found = ctc_sequence_of(image)
        if found is None:
            return False
        self.wanted = found
        if frame is None:
            digits = "".join(ch for ch in Path(image).stem if ch.isdigit())
            frame = int(digits) if digits else 0
        self.wanted_frame = frame
        if self.isVisible():
            self.load_wanted()
        return True

    def load_wanted(self) -> None:
        """Load the remembered sequence (once, in a worker thread) and show its remembered frame."""
        if self.wanted is None:
            return
        if self.wanted != self.loaded_sequence:
            from builder.tracking.movie import movie_from_ctc

            root, name = self.wanted
            self.loaded_sequence = self.wanted
            self._show(lambda: movie_from_ctc(root, name), f"Training data: {root / name} (ground-truth tracks)")
        elif self.player.movie is not None and not self.loading():
            self.player.set_frame(self.wanted_frame)

    def open_result(self, folder: Path, frames: Path | None = None) -> None:
        """Play a tracking result folder (``res_track.txt`` + masks) over its frames, read in a worker thread;
        :attr:`loaded` says whether it could be read."""
        from builder.tracking.movie import movie_from_result

        self.loaded_sequence = self.wanted = None
        self._show(lambda: movie_from_result(folder, frames), f"Tracking result: {folder}")

    def _show(self, make: Callable[[], TrackMovie], text: str) -> None:
        self.player.set_movie(None, f"Reading the time-lapse…\n{text}")
        self.source.setText(f"Reading… {text}")
        self._pending = self.loader.load(make, text)

    def _arrived(self, number: int, movie: TrackMovie | None, message: str, text: str) -> None:
        if number != self._pending:  # a newer request was made meanwhile
            return
        self._pending = 0
        if movie is None:
            self.player.set_movie(None, f"Cannot play this time-lapse:\n{message}")
            self.source.setText("")
            self.loaded.emit(False)
            return
        self.player.set_movie(movie)
        self.source.setText(text)
        if self.wanted is not None and self.wanted == self.loaded_sequence:
            self.player.set_frame(self.wanted_frame)
        self.loaded.emit(True)

    def _choose_result(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path = QFileDialog.getExistingDirectory(self, "Choose a tracking result folder (res_track.txt)")
        if path:
            self.open_result(Path(path))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.load_wanted()
