"""One light, calm look for the whole app: Fusion style, a soft palette and a small style sheet."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = "#2f6fdf"

STYLE = f"""
QWidget {{ font-size: 10pt; }}
QMainWindow, QWidget#page {{ background: #ffffff; }}
QListWidget#sidebar {{ background: #1f2933; color: #e4e7eb; border: none; padding-top: 8px; font-size: 10.5pt; }}
QListWidget#sidebar::item {{ padding: 10px 14px; border-left: 3px solid transparent; }}
QListWidget#sidebar::item:selected {{ background: #323f4b; color: white; border-left: 3px solid {ACCENT}; }}
QLabel#pageTitle {{ font-size: 15pt; font-weight: 600; color: #1f2933; padding-bottom: 4px; }}
QLabel#heroTitle {{ font-size: 24pt; font-weight: 700; color: #1f2933; }}
QLabel#panelTitle {{ font-size: 10.5pt; font-weight: 600; color: #323f4b; padding: 2px 0 4px 0; }}
QLabel#hint {{ color: #616e7c; }}
QLabel#bigStatus {{ font-size: 11pt; font-weight: 600; }}
QLabel#canvasMessage {{ background: #eef4ff; color: #1e3a8a; padding: 6px 10px; }}
QLabel#canvasMessage[error="true"] {{ background: #fdecea; color: #9b1c1c; }}
QLabel#errorBox {{ background: #fdecea; color: #9b1c1c; border: 1px solid #f5c2c0; border-radius: 5px;
                   padding: 8px 12px; }}
QLabel#headline {{ font-size: 18pt; font-weight: 700; color: {ACCENT}; }}
QLabel#imageView {{ background: #111418; color: #9aa5b1; }}
QPushButton {{ padding: 5px 12px; border: 1px solid #cbd2d9; border-radius: 5px; background: #f5f7fa; }}
QPushButton:hover {{ background: #e4e7eb; }}
QPushButton:disabled {{ color: #9aa5b1; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border-color: {ACCENT}; font-weight: 600; }}
QPushButton#primary:disabled {{ background: #9fb8ea; border-color: #9fb8ea; }}
QPushButton#taskCard {{ text-align: left; padding: 10px 14px; border-radius: 8px; background: #f8fafc; }}
QPushButton#taskCard:hover {{ border-color: {ACCENT}; background: #eef4ff; }}
QWidget#pipelineBar {{ background: #f8fafc; border-bottom: 1px solid #e4e7eb; }}
QToolButton#stageButton {{ padding: 4px 8px; border-radius: 4px; color: #323f4b; }}
QToolButton#stageButton:checked {{ background: {ACCENT}; color: white; }}
QLabel#stageArrow {{ color: #9aa5b1; }}
QToolBar#canvasBar {{ background: #ffffff; border: none; border-bottom: 1px solid #e4e7eb; spacing: 2px; }}
QToolButton#advancedToggle {{ border: none; color: #52606d; font-weight: 600; padding: 6px 0; }}
QGroupBox {{ font-weight: 600; border: 1px solid #e4e7eb; border-radius: 6px; margin-top: 10px; padding-top: 8px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 8px; padding: 0 4px; }}
QListWidget#problems {{ border: 1px solid #e4e7eb; }}
QProgressBar {{ border: 1px solid #cbd2d9; border-radius: 5px; text-align: center; height: 18px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 4px; }}
"""


def apply_theme(app: QApplication) -> None:
    """Fusion style with a light palette and the Cellwright style sheet."""
    app.setStyle("Fusion")
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.AlternateBase, QColor("#f5f7fa"))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#1f2933"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#1f2933"))
    palette.setColor(QPalette.ColorRole.Button, QColor("#f5f7fa"))
    palette.setColor(QPalette.ColorRole.ButtonText, QColor("#1f2933"))
    palette.setColor(QPalette.ColorRole.ToolTipBase, QColor("#ffffdc"))
    app.setPalette(palette)
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
    app.setFont(font)
    app.setStyleSheet(STYLE)
