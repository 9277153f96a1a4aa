"""Divisions that are not divisions, told apart by the sizes and places of the mother and her daughters.

Two segmentation errors look like a division to a linker that only asks "did one object become two?":

- **A neighbour that joins the cell for a frame, or appears beside it** (a daughter of another cell just born
  next to it, a cell coming into view). Often it is segmented together with the cell in its first frame and on
  its own from the next frame on; linked naively the cell "divides" into itself and the neighbour. In a true
  division neither daughter is the mother again: both are smaller and both lie off her centre. Here one
  "daughter" has the cell's size and stands where the cell stood the frame before, and the other lies outside it
  (:func:`mother_goes_on`).
- **A cell that falls into pieces** (an over-split outline): both "daughters" are small next to the mother and
  still lie within her outline, close together, while a dividing nucleus gives each daughter about half of it or,
  where the daughters are small (a rounded mitotic mother cut as two), puts them apart (:func:`fell_apart`).
- **A daughter that "divides" in the frame after her birth** (:func:`born_last_frame`): no cell goes through a
  whole cycle between two frames, so the second "daughter" is a neighbour (on Fluo-N2DH-SIM+, the newborn daughter
  of another cell beside her). The first two checks cannot see this case: they compare the mother with herself
  the frame before, and a newborn daughter was then part of her own mother.

:func:`division_verdicts` applies all three and says which one dropped each link (:func:`not_divisions`: the links
alone); the linker keeps the link to the daughter that continues the cell and leaves the other free to start a track
or, when it is another mother's newborn daughter (:data:`NEWBORN_BESIDE`), to be offered to the other mothers.
Thresholds were chosen on the Fluo-N2DH-SIM+
training and validation frames of a 12- and a 36-epoch model (``tests/benchmarks/simplus_division_features.py``),
never its test frames: in the 3 false divisions of a joining neighbour the daughter continuing the cell had 1.01-1.04
of its area and stood 0.20-0.25 cell radii from its centre, the neighbour 1.96-2.2 radii away; in the 37 true
divisions the daughter closest in size to the mother stood at least 0.44 radii off her centre. The larger piece of
the 1 cell in pieces had 0.27 of its area; the larger daughter of a true division at least 0.48 of her mother's
(0.49 in the ground truth of the training and validation frames). Size alone is fragile: a mitotic mother cut
in two a frame before she divides gives two small "daughters" (about a third of her each) that are her true
daughters, so pieces must also stand close together (:data:`PIECES_APART`). The daughters' summed area is no guide:
the ground truth holds a division whose daughters together had 0.69 of their (rounded, mitotic) mother's area.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

Node = tuple[int, int]  # (frame index, label in that frame's label image); as builder.tracking.linker.Node

#: The daughter that continues the cell has between this share and its inverse of the cell's area the frame
#: before the mother's last frame ...
SAME_SIZE = 0.8
#: ... and its centre at most this many cell radii from the cell's centre then ...
SAME_PLACE = 0.35
#: ... while the other daughter's centre is at least this many cell radii from it (outside the cell).
OUTSIDE = 1.2
#: Daughters that each have less than this share of the mother's area are pieces of her, not daughters ...
PIECES = 0.375
#: ... when their centres are also less than this many of the mother's radii apart (pieces that together fill a
#: round outline stand about 0.85 radii apart: the centroids of a disc's halves). Measured on the SIM+ training
#: and validation frames of three models (12, 36 epochs; the 30-step cosine recipe): the 1 cell in pieces had its
#: pieces 0.98 radii apart; the 41 true divisions their daughters at least 1.23 radii apart (small daughters of a
#: mitotic mother, cut as two pieces a frame before she divides, lie at her poles: this is what tells them apart
#: from pieces, not their size).
PIECES_APART = 1.2


def _graph(edges: Iterable[tuple[Node, Node]]) -> tuple[dict[Node, list[Node]], dict[Node, list[Node]]]:
    succ: dict[Node, list[Node]] = {}
    pred: dict[Node, list[Node]] = {}
    for a, b in edges:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    return succ, pred


def mother_goes_on(mother: Node, daughters: list[Node], before: Node | None, areas: Mapping[Node, float],
                   positions: Mapping[Node, np.ndarray]) -> Node | None:
    """The daughter that is a neighbour rather than a daughter (None: a plausible division).

    ``before``: the mother's object the frame before her last one (None when her track starts at her last frame).
    """
    if before is None or areas[before] <= 0:
        return None
    was = areas[before]
    same, other = sorted(daughters, key=lambda d: abs(math.log(max(areas[d], 1.0) / was)))
    radius = math.sqrt(was / math.pi)
    shift = float(np.hypot(*(positions[same] - positions[before]))) / radius
    away = float(np.hypot(*(positions[other] - positions[before]))) / radius
    if SAME_SIZE <= areas[same] / was <= 1.0 / SAME_SIZE and shift <= SAME_PLACE and away >= OUTSIDE:
        return other
    return None


def fell_apart(mother: Node, daughters: list[Node], areas: Mapping[Node, float],
               positions: Mapping[Node, np.ndarray]) -> Node | None:
    """The smaller daughter when both are small next to the mother and close together (pieces of her), else
    None."""
    if max(areas[d] for d in daughters) >= PIECES * areas[mother]:
        return None
    radius = math.sqrt(max(areas[mother], 1.0) / math.pi)
    first, second = daughters
    if float(np.hypot(*(positions[first] - positions[second]))) >= PIECES_APART * radius:
        return None  # apart like the daughters of a mitotic mother, not pieces of one outline
    return min(daughters, key=lambda d: areas[d])


def born_last_frame(mother: Node, daughters: list[Node], pred: Mapping[Node, list[Node]],
                    succ: Mapping[Node, list[Node]], areas: Mapping[Node, float]) -> Node | None:
    """When the mother is a daughter in her first frame (the object before her divided), the daughter least like
    her in size (the neighbour; the other continues her), else None."""
    if not any(p[0] == mother[0] - 1 and len(succ.get(p, [])) == 2 for p in pred.get(mother, [])):
        return None
    was = max(areas[mother], 1.0)
    return max(daughters, key=lambda d: abs(math.log(max(areas[d], 1.0) / was)))


#: The verdict of :func:`born_last_frame`: the freed object is likely another mother's newborn daughter.
NEWBORN_BESIDE = "newborn beside"
#: The verdicts of :func:`mother_goes_on` (a newcomer beside the cell) and :func:`fell_apart` (a piece of her).
NEWCOMER = "newcomer"
PIECE = "piece"


def division_verdicts(edges: Iterable[tuple[Node, Node]], areas: Mapping[Node, float],
                      positions: Mapping[Node, np.ndarray]) -> dict[tuple[Node, Node], str]:
    """One (mother, daughter) link per implausible division: the link to drop (the other daughter continues the
    mother's track), with why: :data:`NEWBORN_BESIDE`, :data:`NEWCOMER` or :data:`PIECE`.

    Parameters
    ----------
    edges : iterable of (Node, Node)
        All links of the track graph, forward in time.
    areas, positions : mappings from Node
        Area (pixels) and centroid (y, x) of every object.
    """
    edges = list(edges)
    succ, pred = _graph(edges)
    out = {}
    for mother in sorted(succ):  # in time order, so a later check sees the earlier ones' verdicts
        daughters = succ[mother]
        if len(daughters) != 2:
            continue
        before = next((p for p in pred.get(mother, []) if p[0] == mother[0] - 1 and len(succ.get(p, [])) == 1),
                      None)
        why, drop = NEWBORN_BESIDE, born_last_frame(mother, daughters, pred, succ, areas)
        if drop is None:
            why, drop = NEWCOMER, mother_goes_on(mother, daughters, before, areas, positions)
        if drop is None:
            why, drop = PIECE, fell_apart(mother, daughters, areas, positions)
        if drop is not None:
            out[(mother, drop)] = why
            succ[mother] = [d for d in daughters if d != drop]
            pred[drop] = [p for p in pred[drop] if p != mother]
    return out


def not_divisions(edges: Iterable[tuple[Node, Node]], areas: Mapping[Node, float],
                  positions: Mapping[Node, np.ndarray]) -> set[tuple[Node, Node]]:
    """The links :func:`division_verdicts` drops, without the reasons."""
    return set(division_verdicts(edges, areas, positions))
