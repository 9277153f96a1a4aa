"""Time linking + CTC export on a 92-frame 1024 x 1024 sequence built from Fluo-N2DH-SIM+ 01 (../shared/realdata).

Run: PYTHONPATH=. python tests/benchmarks/bench_tracking_speed.py   (the issue's goal: <= 30 s, segmentation excluded)
Frames 0-64 then 63-37 (time reversed, so the motion stays continuous), each placed with a second, shifted copy
of itself on a 1024 x 1024 canvas (about 70 cells per frame).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from builder.data.ctc import read_ctc_sequence
from builder.tracking.ctc_files import write_ctc_result
from builder.tracking.lineage import lineage_from_graph
from builder.tracking.linker import track

SEQUENCE = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "ctc_Fluo-N2DH-SIM+_01"


def main() -> None:
    seq = read_ctc_sequence(SEQUENCE)
    order = list(range(65)) + list(range(63, 36, -1))
    labels = np.zeros((len(order), 1024, 1024), np.int32)
    images = np.zeros(labels.shape, np.float32)
    for i, t in enumerate(order):
        seg, frame = seq.seg[t], seq.frames[t][..., 0]
        labels[i, :690, :628], images[i, :690, :628] = seg, frame
        labels[i, 334:, 628:] = np.where(seg[:, :396] > 0, seg[:, :396] + 1000, 0)
        images[i, 334:, 628:] = frame[:, :396]
    began = time.perf_counter()
    lineage = lineage_from_graph(track(labels, images))
    with tempfile.TemporaryDirectory() as folder:
        write_ctc_result(folder, lineage.relabel(labels), lineage.tracks)
    print(f"{len(order)} frames 1024x1024, {len(lineage.tracks)} tracks: linking + CTC export "
          f"{time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    main()
