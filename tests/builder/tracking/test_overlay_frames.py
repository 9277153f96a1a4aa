"""The "Tracks over time" panels of a tracking report count frames as the lineage does: from the sequence's start."""

from __future__ import annotations

import numpy as np

from builder.tracking.figures import panel_frames, panel_title, track_overlays


def test_panels_are_evenly_spaced_and_include_both_ends():
    assert panel_frames(20) == [0, 6, 13, 19]
    assert panel_frames(3) == [0, 1, 2]
    assert panel_frames(1) == [0]


def test_test_frames_are_titled_with_their_frame_in_the_sequence():
    # the held-out frames of SIM+ are frames 45-64: their panels must say 45, 51, 58, 64 (the lineage's axis)
    assert [panel_title(t, first_frame=45) for t in panel_frames(20)] == [
        "frame 45", "frame 51", "frame 58", "frame 64"]
    assert panel_title(6) == "frame 6"


def test_overlays_with_a_first_frame_draw_a_png():
    images = [np.random.default_rng(t).random((24, 24)).astype(np.float32) for t in range(3)]
    masks = [np.zeros((24, 24), np.int32) for _ in range(3)]
    for t, m in enumerate(masks):
        m[4 + t:10 + t, 4:10] = 1
    png = track_overlays(images, masks, first_frame=45)
    assert png is not None and png[:8] == b"\x89PNG\r\n\x1a\n"
