"""TensorFlow's start-up chatter stays out of the app's log pane; the user's messages stay in."""

from __future__ import annotations

from gui.worker_messages import LogCleaner

#: Lines as TensorFlow 2.16+ prints them on a CPU machine (copied from a real worker's stderr).
TF_LINES = [
    "2026-11-26 14:02:11.532917: I tensorflow/core/util/port.cc:153] oneDNN custom operations are on. You may see "
    "slightly different numerical results due to floating-point round-off errors from different computation "
    "orders. To turn them off, set the environment variable `TF_ENABLE_ONEDNN_OPTS=0`.",
    "2026-11-26 14:02:11.560101: I tensorflow/core/platform/cpu_feature_guard.cc:210] This TensorFlow binary is "
    "optimized to use available CPU instructions in performance-critical operations.",
    "To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the "
    "appropriate compiler flags.",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    "I0000 00:00:1732630931.853012   41235 cuda_executor.cc:1015] could not open file to read NUMA node",
    "E0000 00:00:1732630931.901234   41235 cuda_blas.cc:1418] Unable to register cuBLAS factory: Attempting to "
    "register factory for plugin cuBLAS when one has already been registered",
]


def test_tensorflow_chatter_is_hidden_and_real_messages_are_kept():
    cleaner = LogCleaner("/tmp/train.log")
    assert [cleaner.feed(line) for line in TF_LINES] == [None] * len(TF_LINES)
    for line in ("epoch 3/50: loss 0.41, val_loss 0.52", "Reading 73 images from /data/nuclei",
                 "warning: the validation set is empty"):
        assert cleaner.feed(line) == line


def test_output_lines_join_pieces_and_keep_channels_apart():
    from gui.worker_messages import OutputLines

    lines = OutputLines()
    assert lines.feed("out", b'{"event": "ep') == []
    assert lines.feed("err", b"Traceback\r\n  File") == ["Traceback"]
    assert lines.feed("out", 'och", "name": "é"}\nnext'.encode()) == ['{"event": "epoch", "name": "é"}']
    assert lines.feed("out", b"", final=True) == ["next"]
    assert lines.feed("err", b"", final=True) == ["  File"]
    assert lines.feed("out", b"", final=True) == []
