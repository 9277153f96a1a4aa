"""Linear assignment with a "no link" alternative per row (SciPy's ``linear_sum_assignment``)."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

#: Cost standing for "not allowed" (finite so SciPy always finds a solution).
FORBIDDEN = 1e9


def assign(cost: np.ndarray, allowed: np.ndarray, no_link_cost: float | np.ndarray = 1.0) -> list[tuple[int, int]]:
    """Rows matched to columns at minimum total cost; a row may stay unmatched at ``no_link_cost``.

    Parameters
    ----------
    cost : (N, M) ndarray
        Cost of linking row i to column j.
    allowed : (N, M) bool ndarray
        Candidate links (outside the search radius: False).
    no_link_cost : float or (N,) ndarray
        Cost of leaving a row unmatched (a death / track end); links dearer than it are never chosen.

    Returns
    -------
    list of (row, column)
    """
    n, m = cost.shape
    if n == 0 or m == 0 or not allowed.any():
        return []
    alt = np.broadcast_to(np.asarray(no_link_cost, np.float64), (n,))
    full = np.full((n, m + n), FORBIDDEN)
    full[:, :m] = np.where(allowed, cost, FORBIDDEN)
    full[np.arange(n), m + np.arange(n)] = alt
    rows, cols = linear_sum_assignment(full)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if c < m and full[r, c] < FORBIDDEN]
