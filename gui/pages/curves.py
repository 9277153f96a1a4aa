"""Live loss and metric curves (matplotlib's Qt canvas; redrawn at most a few times a second)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

#: Numbers in a run's history that are bookkeeping, not training curves (the epoch's wall time, the learning rate).
NOT_CURVES = frozenset({"learning_rate", "lr", "time_s", "epoch_time_s"})

class Curves(QWidget):
    """Two panels: losses (training and validation) and the other metrics, per epoch."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(6, 3), dpi=90, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.loss_ax = self.figure.add_subplot(1, 2, 1)
        self.metric_ax = self.figure.add_subplot(1, 2, 2)
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.finished = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._timer = QTimer(self, singleShot=True, interval=300)
        self._timer.timeout.connect(self.redraw)
        self.redraw()

    def clear(self) -> None:
        self.series = {}
        self.finished = False
        self.redraw()

    def mark_finished(self) -> None:
        """Training ended: an empty panel now says why instead of 'waiting'."""
        self.finished = True
        self.redraw()

    def load_history(self, rows: list[dict]) -> int:
        """Show finished epochs from a run's ``history.json`` (a resumed run's earlier epochs); returns how many."""
        count = 0
        for index, row in enumerate(rows, start=1):
            if isinstance(row, dict):
                numbers = {k: v for k, v in row.items() if k != "epoch" and isinstance(v, (int, float))}
                self.add_epoch(float(row.get("epoch", index)), numbers)
                count += 1
        return count

    def add_epoch(self, epoch: float, metrics: dict[str, float]) -> None:
        for name, value in metrics.items():
            if name in NOT_CURVES or value is None:
                continue
            points = self.series.setdefault(name, [])
            points[:] = [p for p in points if p[0] != float(epoch)]  # an epoch trained again after a resume
            points.append((float(epoch), float(value)))
        self._timer.start()

    def redraw(self) -> None:
        for ax, title in ((self.loss_ax, "Loss"), (self.metric_ax, "Metrics")):
            ax.clear()
            ax.set_title(title, fontsize=10)
            ax.set_xlabel("epoch", fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(True, alpha=0.3)
        for name, points in sorted(self.series.items()):
            ax = self.loss_ax if "loss" in name else self.metric_ax
            xs, ys = zip(*points, strict=True)
            style = "--" if name.startswith("val_") else "-"
            ax.plot(xs, ys, style, marker="o" if len(xs) < 30 else None, markersize=3, label=name)
        from matplotlib.ticker import MaxNLocator

        for ax in (self.loss_ax, self.metric_ax):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if ax.lines:
                ax.legend(fontsize=8, frameon=False)
            else:
                text = ("no other metric was tracked during training;\nthe test scores are on the Results page"
                        if self.finished or self.series else "waiting for the first epoch")
                ax.text(0.5, 0.5, text, ha="center", va="center",
                        transform=ax.transAxes, fontsize=9, color="#868e96")
        self.canvas.draw_idle()
