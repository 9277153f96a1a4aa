"""Controls of an :class:`ImageViewer`: channel, contrast (numbers), z and time sliders, label layers, compare."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QWidget,
)

from gui.schema_form import guard_wheel
from gui.viewer.widget import ImageViewer

COMPARE_TEXT = {"off": "Off", "swipe": "Swipe", "side": "Side by side"}


class ViewerControls(QWidget):
    """A small form bound to one viewer; rebuilt from the viewer whenever its image changes."""

    def __init__(self, viewer: ImageViewer, parent=None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self.channel = QComboBox()
        self.low, self.high = QDoubleSpinBox(), QDoubleSpinBox()
        for box in (self.low, self.high):
            box.setRange(-1e12, 1e12)
            box.setDecimals(1)
            box.setKeyboardTracking(False)
            box.setMinimumWidth(90)  # the ±1e12 range would ask for 150 px each and squeeze the image beside
            box.valueChanged.connect(self._contrast_changed)
        self.low.setToolTip("Black level: this value and below are shown black")
        self.high.setToolTip("White level: this value and above are shown white")
        self.auto = QPushButton("Auto")
        self.auto.setToolTip("Contrast from the 1st and 99.8th percentile of the shown plane")
        self.auto.clicked.connect(self._auto_contrast)
        self.z, self.t = QSlider(Qt.Orientation.Horizontal), QSlider(Qt.Orientation.Horizontal)
        self.z_label, self.t_label = QLabel(""), QLabel("")
        self.layer = QComboBox()
        self.opacity = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100, value=45)
        self.outline = QCheckBox("Outlines only")
        self.show_labels = QCheckBox("Show")
        self.show_labels.setChecked(True)
        self.compare = QComboBox()
        self.compare.addItems(list(COMPARE_TEXT.values()))
        self.compare.setToolTip("Compare the first two label layers (e.g. prediction and ground truth)")
        fit, one = QPushButton("Fit"), QPushButton("1:1")
        fit.setToolTip("Show the whole image (F)")
        one.setToolTip("One image pixel per screen pixel (1)")
        fit.clicked.connect(viewer.fit)
        one.clicked.connect(viewer.one_to_one)
        for widget in (self.channel, self.low, self.high, self.z, self.t, self.layer, self.opacity, self.compare):
            guard_wheel(widget)
        contrast = QHBoxLayout()
        contrast.addWidget(self.low)
        contrast.addWidget(self.high)
        contrast.addWidget(self.auto)
        zoom = QHBoxLayout()
        zoom.addWidget(fit)
        zoom.addWidget(one)
        zoom.addStretch(1)
        labels = QHBoxLayout()
        labels.addWidget(self.show_labels)
        labels.addWidget(self.outline)
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Zoom", zoom)
        form.addRow("Channel", self.channel)
        form.addRow("Black / white", contrast)
        self.z_row = (QLabel("Z"), self.z)
        self.t_row = (QLabel("Time"), self.t)
        form.addRow(*self.z_row)
        form.addRow("", self.z_label)
        form.addRow(*self.t_row)
        form.addRow("", self.t_label)
        form.addRow("Labels", self.layer)
        form.addRow("Opacity", self.opacity)
        form.addRow("", labels)
        form.addRow("Compare", self.compare)
        self.channel.currentIndexChanged.connect(self._channel_changed)
        self.z.valueChanged.connect(lambda v: self._plane_changed("z", v))
        self.t.valueChanged.connect(lambda v: self._plane_changed("t", v))
        self.layer.currentIndexChanged.connect(self._layer_changed)
        self.opacity.valueChanged.connect(self._layer_style)
        self.outline.toggled.connect(self._layer_style)
        self.show_labels.toggled.connect(self._layer_style)
        self.compare.currentIndexChanged.connect(self._compare_changed)
        viewer.image_changed.connect(self.sync)
        self.sync()

    # ----------------------------------------------------------------- from the viewer
    def sync(self) -> None:
        """Show the viewer's current image and layers in the controls."""
        image = self.viewer.image
        widgets = (self.channel, self.low, self.high, self.z, self.t, self.layer, self.compare)
        for widget in widgets:
            widget.blockSignals(True)
        self.channel.clear()
        if image is not None:
            if len(image.channel_names) > 1:
                self.channel.addItem("All (colour)")
            self.channel.addItems(image.channel_names)
            if image.channel is not None and len(image.channel_names) > 1:
                self.channel.setCurrentIndex(image.channel + 1)
            t_count, z_count = image.shape_tzyxc[:2]
            self.z.setRange(0, z_count - 1)
            self.z.setValue(image.z)
            self.t.setRange(0, t_count - 1)
            self.t.setValue(image.t)
        for widget, count in ((self.z_row, image.shape_tzyxc[1] if image else 1),
                              (self.t_row, image.shape_tzyxc[0] if image else 1)):
            for part in widget:
                part.setVisible(count > 1)
        self.z_label.setVisible(self.z.isVisible() if image else False)
        self.t_label.setVisible(self.t.isVisible() if image else False)
        self.layer.clear()
        self.layer.addItems([layer.name for layer in self.viewer.layers])
        self.layer.setCurrentIndex(self.viewer.current_index)
        self.compare.setEnabled(len(self.viewer.layers) >= 2)
        for widget in widgets:
            widget.blockSignals(False)
        self._show_contrast()
        self._plane_labels()

    def _current_channel(self) -> int:
        image = self.viewer.image
        return 0 if image is None or image.channel is None else image.channel

    def _show_contrast(self) -> None:
        image = self.viewer.image
        for box in (self.low, self.high):
            box.blockSignals(True)
        if image is not None:
            contrast = image.contrasts[self._current_channel()]
            self.low.setValue(contrast.low)
            self.high.setValue(contrast.high)
        for box in (self.low, self.high):
            box.blockSignals(False)

    def _plane_labels(self) -> None:
        image = self.viewer.image
        if image is not None:
            t_count, z_count = image.shape_tzyxc[:2]
            self.z_label.setText(f"plane {image.z + 1} of {z_count}")
            self.t_label.setText(f"frame {image.t + 1} of {t_count}")

    # ----------------------------------------------------------------- to the viewer
    def _channel_changed(self, index: int) -> None:
        image = self.viewer.image
        if image is None:
            return
        multi = len(image.channel_names) > 1
        image.channel = (None if index <= 0 else index - 1) if multi else 0
        self._show_contrast()
        self.viewer.update()

    def _contrast_changed(self, _value: float) -> None:
        image = self.viewer.image
        if image is None:
            return
        image.set_contrast(self._current_channel(), self.low.value(),
                           max(self.high.value(), self.low.value() + 1e-6))
        self.viewer.update()

    def _auto_contrast(self) -> None:
        image = self.viewer.image
        if image is None:
            return
        for channel in range(len(image.channel_names)):
            auto = image.auto_contrast(channel)
            image.set_contrast(channel, auto.low, auto.high)
        self._show_contrast()
        self.viewer.update()

    def _plane_changed(self, axis: str, value: int) -> None:
        image = self.viewer.image
        if image is None:
            return
        setattr(image, axis, int(value))
        self._plane_labels()
        self.viewer.update()

    def _layer_changed(self, index: int) -> None:
        self.viewer.set_current_layer(index)
        layer = self.viewer.current_layer
        if layer is not None:
            for widget, value in ((self.opacity, int(layer.opacity * 100)), (self.outline, layer.outline),
                                  (self.show_labels, layer.visible)):
                widget.blockSignals(True)
                widget.setValue(value) if isinstance(widget, QSlider) else widget.setChecked(value)
                widget.blockSignals(False)

    def _layer_style(self, *_args) -> None:
        layer = self.viewer.current_layer
        if layer is None:
            return
        layer.opacity = self.opacity.value() / 100
        layer.outline = self.outline.isChecked()
        layer.visible = self.show_labels.isChecked()
        self.viewer.update()

    def _compare_changed(self, index: int) -> None:
        self.viewer.set_compare(list(COMPARE_TEXT)[index])
