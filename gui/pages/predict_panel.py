"""Prediction on new images: sends them to the app's prediction worker (``cellwright serve``, kept alive with the
run's model loaded) and shows the overlays."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from builder.run_folder import RunFolder
from gui.pages.data import IMAGE_SUFFIXES, read_array
from gui.predict_worker import PredictWorker
from gui.viewer import ImageViewer
from gui.viewer.controls import ViewerControls
from gui.worker_messages import failure_text

#: Output files of ``cellwright predict`` per input stem, in the order they are preferred for the overlay.
OVERLAY_SUFFIXES = ("_labels.tif", "_mask.tif")
#: Said when a prediction starts a new worker because the last one stopped (crashed or killed).
RESTARTED = "the prediction worker had stopped and was started again"
#: Z-stack choices of the panel: label and the ``--project`` value.
PROJECTIONS = (("Z-stacks: refuse", None), ("Z-stacks: max projection", "max"), ("Z-stacks: mean projection", "mean"))


def gui_wording(text: str) -> str:
    """A ``cellwright predict`` fix, with its command-line options named as the panel's controls."""
    return (text.replace("--project max", "'Z-stacks: max projection'").replace("--project mean", "'mean'")
            .replace("add --channel", "type it in the Channel box").replace("--channel", "the Channel box"))


def untuned_reason(run_dir: Path) -> str:
    """Why predicting with ``run_dir`` must wait: its task tunes thresholds on the validation images and the
    run's evaluation has not written them yet (no ``postprocess.json``, no ``metrics.json``). Empty when
    prediction can go ahead."""
    from builder.errors import CellwrightError
    from builder.tasks import all_tasks

    run = RunFolder(run_dir)
    try:
        task = run.read_recipe_data().get("task")
    except (CellwrightError, OSError, AttributeError):
        return ""
    spec = all_tasks().get(str(task))
    evaluated = run.postprocess_path.exists() or run.metrics_path.exists()
    if spec is None or not spec.has_tuned_postprocess or evaluated:
        return ""
    return ("Prediction waits for the evaluation: this run's thresholds that split touching cells are not tuned "
            "yet, and untuned thresholds can find several times more (or fewer) objects than the tuned model. "
            "It becomes available when the evaluation after training has finished.")


def ground_truth_for(image: Path) -> Path | None:
    """A mask for ``image`` in a sibling ``masks`` folder (``images/a.tif`` -> ``masks/a.tif``), if there is one."""
    folder = image.parent.parent / "masks"
    for candidate in (folder / image.name, *sorted(folder.glob(image.stem + ".*"))):
        if candidate.is_file():
            return candidate
    return None


def prediction_layers(image: Path, out_dir: Path) -> tuple[np.ndarray, list[str], list[tuple[str, np.ndarray]], str]:
    """What the viewer shows for one predicted image: (pixels, channel names, label layers, caption).

    Label layers: the prediction, then the ground truth when a mask is found next to the image (for the
    side-by-side and swipe comparison). Restorations are shown beside the input; classes in the caption.
    """
    array, names = read_array(image)
    for suffix in OVERLAY_SUFFIXES:
        path = out_dir / f"{image.stem}{suffix}"
        if path.exists():
            labels = read_array(path)[0][..., 0].astype(np.int64)
            count = len(np.unique(labels[labels > 0]))
            what = f"{count} objects" if suffix == "_labels.tif" else f"{int((labels > 0).mean() * 100)}% foreground"
            layers = [("prediction", labels)]
            truth = ground_truth_for(image)
            if truth is not None:
                mask = read_array(truth)[0][..., 0]
                if mask.shape == labels.shape:
                    layers.append(("ground truth", mask))
            return array, names, layers, f"{image.name}: {what} ({path.name})"
    restored = out_dir / f"{image.stem}_restored.tif"
    if restored.exists():
        result = read_array(restored)[0]
        if result.shape[:2] == array.shape[:2]:
            def unit(a: np.ndarray) -> np.ndarray:
                a = a[..., 0].astype(np.float32)
                low, high = np.percentile(a, (1.0, 99.8))
                return np.clip((a - low) / max(float(high - low), 1e-6), 0, 1)

            gap = np.ones((array.shape[0], 8), np.float32)
            both = np.concatenate([unit(array), gap, unit(result)], axis=1)
            return both, ["input | restored"], [], f"{image.name}: input (left) and restored (right)"
    table = out_dir / "predictions.csv"
    if table.exists():
        with table.open(newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                if Path(str(row.get("image") or row.get("file") or row.get("name") or "")).stem == image.stem:
                    label = row.get("prediction") or row.get("label") or row.get("class") or "?"
                    return array, names, [], f"{image.name}: predicted class {label}"
    return array, names, [], f"{image.name}: no prediction found in {out_dir}"


class PredictPanel(QWidget):
    """Choose images, predict them with the selected run, look at the results."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.images: list[Path] = []
        self.skipped: list[dict] = []
        self.out_dir: Path | None = None
        self.restarted = False
        self.choose_button = QPushButton("Choose images…")
        self.choose_button.setObjectName("primary")
        self.choose_button.setToolTip("Pick image files to segment with the selected run's model")
        self.channel = QLineEdit()
        self.channel.setPlaceholderText("Channel (optional)")
        self.channel.setToolTip("Channel(s) to feed the model, by name or number, comma-separated "
                                "(e.g. green for an RGB image); empty: the recipe's channels")
        self.project = QComboBox()
        for label, _value in PROJECTIONS:
            self.project.addItem(label)
        self.project.setToolTip("What to do with z-stacks when the model was trained on single planes")
        self.open_button = QPushButton("Show output folder")
        self.open_button.setEnabled(False)
        self.status = QLabel("Predict new images with the trained model of the selected run.")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.viewer = ImageViewer()
        self.viewer.message = "Predicted images appear here."
        self.controls = ViewerControls(self.viewer)
        self.caption = QLabel("")
        self.hover = QLabel("")
        self.hover.setObjectName("hint")
        self.viewer.show_hover_overlay = False
        self.viewer.hovered.connect(self.hover.setText)
        right = QWidget()
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.caption)
        column.addWidget(self.viewer, 1)
        column.addWidget(self.hover)
        left = QWidget()
        side = QVBoxLayout(left)
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.list, 1)
        side.addWidget(self.controls)
        split = QSplitter()
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([300, 700])
        split.setStretchFactor(0, 0)  # a wider window widens the image, not the file list
        split.setStretchFactor(1, 1)
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addWidget(self.channel)
        row.addWidget(self.project)
        row.addWidget(self.open_button)
        row.addWidget(self.status, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        self.worker = PredictWorker(self)
        self.worker.event.connect(self._on_event)
        self.worker.finished.connect(self._finished)
        self.choose_button.clicked.connect(self._choose)
        self.open_button.clicked.connect(
            lambda: self.out_dir and QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.out_dir))))
        self.list.currentRowChanged.connect(self.show_image)

    def set_run(self, run_dir: Path | None) -> None:
        """Predict with ``run_dir``'s model; refused (with the reason) while its thresholds are not tuned.

        Showing the same run again (the results list refreshed) keeps the last prediction's message."""
        same = run_dir is not None and run_dir == self.run_dir
        if run_dir != self.run_dir and not self.worker.running():
            self.worker.stop()  # frees the old run's model; the next prediction starts a worker for this one
        self.run_dir = run_dir
        reason = untuned_reason(run_dir) if run_dir is not None else ""
        self.choose_button.setEnabled(run_dir is not None and not reason and not self.worker.running())
        self.choose_button.setToolTip(reason or "Pick image files to segment with the selected run's model")
        if reason:
            self.status.setText(reason)
        elif not self.worker.running() and not same:
            self.status.setText("Predict new images with the trained model of the selected run.")

    def _choose(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Images to predict", "",
                                                "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")")
        if files:
            self.predict([Path(f) for f in files])

    def predict(self, images: list[Path], out_dir: Path | None = None) -> bool:
        """Send ``images`` to the prediction worker (started, with the run's model, on the first prediction);
        results go to ``out_dir`` (default: the run's ``predictions/<time>/``)."""
        if self.run_dir is None or self.worker.running() or not images:
            return False
        self.images = list(images)
        self.skipped = []
        self.out_dir = out_dir or RunFolder(self.run_dir).predictions_dir / time.strftime("%Y%m%d-%H%M%S")
        self.list.clear()
        self.viewer.clear("Predicting…")
        self.caption.clear()
        self.choose_button.setEnabled(False)
        self.restarted = self.worker.died()
        loading = "" if self.worker.alive() else " (loading the model takes a few seconds)"
        if self.restarted:
            loading = f" ({RESTARTED}; loading the model takes a few seconds)"
        self.status.setText(f"Predicting {len(images)} image(s)…{loading}")
        return self.worker.submit(self.run_dir, self.request()) is not None

    def request(self) -> dict:
        """The worker request for :attr:`images` into :attr:`out_dir`, with the panel's channel and z-stack
        choices (the same settings as :meth:`options`)."""
        channels = [c.strip() for c in self.channel.text().split(",") if c.strip()]
        projection = PROJECTIONS[max(0, self.project.currentIndex())][1]
        return {"images": [str(p) for p in self.images], "out": str(self.out_dir), "force": True,
                **({"channels": channels} if channels else {}), **({"project": projection} if projection else {})}

    def options(self) -> list[str]:
        """``--channel`` / ``--project`` arguments from the panel's controls."""
        args: list[str] = []
        for name in (c.strip() for c in self.channel.text().split(",")):
            if name:
                args += ["--channel", name]
        projection = PROJECTIONS[max(0, self.project.currentIndex())][1]
        return args + (["--project", projection] if projection else [])

    def _on_event(self, event: dict) -> None:
        if event.get("event") == "batch":
            self.status.setText(f"Predicted {event.get('step')} of {event.get('total')}…")
        elif event.get("event") == "warning" and event.get("file"):
            self.skipped.append(event)

    def _finished(self, code: int) -> None:
        self.choose_button.setEnabled(self.run_dir is not None)
        only_skips = code == 1 and self.skipped and not self.worker.errors
        if code != 0 and not only_skips:
            errors = self.worker.errors
            log = None if errors else self.worker.save_log(Path(self.out_dir) / "predict-error.log")
            self.status.setText(failure_text(code, errors, log))
            return
        left_out = {Path(e["file"]).resolve() for e in self.skipped}
        self.images = [image for image in self.images if image.resolve() not in left_out]
        text = f"{len(self.images)} image(s) predicted into {self.out_dir}"
        if self.restarted:
            text = f"{RESTARTED.capitalize()}. {text}"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped: " + "; ".join(
                f"{Path(e['file']).name} {str(e.get('message', '')).removeprefix('skipped: ')} "
                f"{gui_wording(str(e.get('fix', '')))}"
                for e in self.skipped[:3]) + (" …" if len(self.skipped) > 3 else "")
        self.status.setText(text)
        self.open_button.setEnabled(True)
        for image in self.images:
            self.list.addItem(image.name)
        self.list.setCurrentRow(0)

    def show_image(self, row: int) -> None:
        """Show one predicted image with its prediction (and ground truth, when found) in the viewer."""
        if row < 0 or row >= len(self.images) or self.out_dir is None:
            return
        try:
            array, names, layers, text = prediction_layers(self.images[row], self.out_dir)
        except Exception as error:  # unreadable output: say so, never raise in the UI
            self.caption.setText(f"Cannot show {self.images[row].name}: {error}")
            return
        self.viewer.set_image(array, axes="TYXC" if array.ndim == 4 else None, channel_names=names)
        for name, labels in layers:
            self.viewer.add_labels(name, labels)
        self.viewer.set_current_layer(0 if layers else -1)
        self.controls.sync()
        self.caption.setText(text)
