"""The export dialog lists the formats of the export registry (no list of its own)."""

from __future__ import annotations

from builder.export_registry import FormatResult, format_names, register_format, unregister_format


def test_dialog_offers_every_registered_format(qtbot, tmp_path):
    from gui.pages.export_dialog import ExportDialog

    register_format("gui_probe", label="Probe format (test only)", suffix=".probe")(lambda request: FormatResult([]))
    try:
        dialog = ExportDialog(tmp_path / "runs" / "probe-run")
        qtbot.addWidget(dialog)
        assert list(dialog.boxes) == format_names()
        assert dialog.boxes["gui_probe"].text() == "Probe format (test only)"
        assert dialog.formats() == ["bundle"]
        dialog.boxes["gui_probe"].setChecked(True)
        command = dialog.command()
        assert command[command.index("--out") + 1] == str(tmp_path / "runs" / "probe-run" / "exports")
        assert command[-2:] == ["--format", "gui_probe"]
    finally:
        unregister_format("gui_probe")
