"""Microaggregation of the whole released record: every exported row is identical to at least k−1 others.

Why (152-FZ art. 3 p. 9, RKN order No. 996 of 05.09.2013, the method of *changing semantics* —
«метод изменения семантики»: values are replaced by the result of a transformation that keeps them
useful for processing but no longer attributable): k-anonymity that holds only over the declared
quasi-identifiers is broken by the behaviour columns, which fingerprint every subscriber and which an
insider can recompute from billing. So every numeric behaviour column is replaced by the centroid of a
group of at least ``k`` subscribers, and the derived segment labels are set per group too. Each released
row is then shared verbatim by its whole group: whatever an attacker knows (public facts, the billing
itself, another export), he cannot tell the rows of one group apart, so no row is attributed better than
1 in k (the prosecutor risk of ARX, bounded by 1/k over the *whole* record).

How: groups are formed inside the k-anonymous classes of the generalised quasi-identifiers (so the
quasi-identifier columns are constant in a group), ordered by behaviour cluster and by the first
principal component of the standardised behaviour vector, and cut into consecutive runs of ``k``..``2k−1``
rows: the fixed-size projection heuristic of microaggregation (Domingo-Ferrer & Mateo-Sanz 2002;
Domingo-Ferrer & Torra 2005), chosen over MDAV because it is O(n log n) on a million rows.
A group whose members share one value of the sensitive attribute (the ARPU band) would disclose it
(homogeneity attack, Machanavajjhala et al. 2007): such a group is merged with its neighbour until it
holds at least ``l`` distinct values (the merge step of Soria-Comas et al. 2015, "t-closeness through
microaggregation"); a class that cannot reach ``l`` at all is suppressed (method of *changing
composition*, «метод изменения состава»).

The partition depends on the billing data, the period, k, l and the fixed quasi-identifier hierarchy
only — never on the pseudonymisation key nor on which attributes an export shows. Two exports of the
same period therefore fall into the same groups and joining them row to row gains nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Groups:
    """``group[i]`` is the group of row ``i`` (−1: suppressed because its class could not reach l)."""

    group: np.ndarray
    n_groups: int
    merged_for_l: int  # groups absorbed by a neighbour to reach l distinct sensitive values
    suppressed_for_l: int  # rows removed because their whole class had fewer than l sensitive values


def projection(matrix: np.ndarray, sample: int = 20_000, seed: int = 0) -> np.ndarray:
    """First principal component of the standardised matrix (fitted on a sample), one value per row."""
    n = len(matrix)
    if n == 0:
        return np.zeros(0)
    rng = np.random.default_rng(seed)
    idx = rng.choice(n, size=min(n, sample), replace=False)
    mean = matrix[idx].mean(axis=0)
    std = matrix[idx].std(axis=0)
    std[std == 0] = 1.0
    z = (matrix[idx] - mean) / std
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    axis = vt[0]
    return np.asarray(((matrix - mean) / std) @ axis)


def form_groups(
    class_id: np.ndarray,
    order_keys: list[np.ndarray],
    sensitive: np.ndarray,
    tie_break: np.ndarray,
    k: int,
    l_min: int = 2,
) -> Groups:
    """Cut each class (``class_id``) into groups of ≥ k rows with ≥ ``l_min`` distinct ``sensitive`` codes.

    ``order_keys`` (most significant first) order rows inside a class; ``tie_break`` (the billing id)
    makes the cut deterministic whatever the row order of the input."""
    n = len(class_id)
    group = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return Groups(group, 0, 0, 0)
    if int(sensitive.max(initial=0)) >= 63:
        raise ValueError("at most 63 distinct sensitive values are supported")
    order = np.lexsort((tie_break, *reversed(order_keys), class_id))
    cls = class_id[order]
    starts = np.flatnonzero(np.r_[True, cls[1:] != cls[:-1]])
    sizes = np.diff(np.r_[starts, n])
    pos = np.arange(n) - np.repeat(starts, sizes)
    per_class = np.maximum(sizes // k, 1)
    local = np.minimum(pos // k, np.repeat(per_class, sizes) - 1)
    offsets = np.r_[0, np.cumsum(per_class)[:-1]]
    initial = np.repeat(offsets, sizes) + local  # groups of k..2k-1 rows, numbered in row order
    bits = np.left_shift(np.int64(1), sensitive[order].astype(np.int64))
    g_starts = np.flatnonzero(np.r_[True, initial[1:] != initial[:-1]])
    masks = np.bitwise_or.reduceat(bits, g_starts)
    g_class = cls[g_starts]

    final = np.full(len(g_starts), -1, dtype=np.int64)
    merged = suppressed_groups = 0
    next_id = 0
    i, n_g = 0, len(g_starts)
    while i < n_g:
        # one class: its groups are g_starts[i:j]
        j = i
        while j < n_g and g_class[j] == g_class[i]:
            j += 1
        closed: list[int] = []  # final ids of the groups closed in this class
        acc_mask, acc_members = 0, []
        for g in range(i, j):
            acc_mask |= int(masks[g])
            acc_members.append(g)
            if acc_mask.bit_count() >= l_min:
                for m in acc_members:
                    final[m] = next_id
                merged += len(acc_members) - 1
                closed.append(next_id)
                next_id += 1
                acc_mask, acc_members = 0, []
        if acc_members:  # a tail below l: joins the last closed group of the class, or the class goes
            if closed:
                for m in acc_members:
                    final[m] = closed[-1]
                merged += len(acc_members)
            else:
                suppressed_groups += len(acc_members)
        i = j
    per_row = np.repeat(final, np.diff(np.r_[g_starts, n]))
    group[order] = per_row
    return Groups(group, next_id, merged, int((group < 0).sum()))


def centroids(values: pd.DataFrame, group: np.ndarray) -> pd.DataFrame:
    """Each row's numeric values replaced by the mean of its group (rows with group −1 are dropped)."""
    keep = group >= 0
    frame = values[keep]
    g = group[keep]
    means = frame.groupby(g, sort=False).transform("mean")
    return means.set_axis(frame.index)


def majority(labels: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The most frequent label of each row's group (ties: the smallest label), for rows with group ≥ 0."""
    keep = group >= 0
    frame = pd.DataFrame({"g": group[keep], "v": labels[keep]})
    counts = frame.groupby(["g", "v"], sort=True, observed=True).size().reset_index(name="n")
    best = counts.sort_values(["g", "n", "v"], ascending=[True, False, True]).drop_duplicates("g")
    lookup = pd.Series(best["v"].to_numpy(), index=best["g"].to_numpy())
    return lookup.reindex(frame["g"].to_numpy()).to_numpy()


def sse_loss(original: pd.DataFrame, released: pd.DataFrame) -> dict[str, float]:
    """Information loss of microaggregation, per column and overall: SSE / SST (the within-group sum of
    squares over the total sum of squares; 0 = nothing lost, 1 = every value replaced by the mean)."""
    out: dict[str, float] = {}
    sse_all = sst_all = 0.0
    for c in released.columns:
        x = original[c].to_numpy(dtype=np.float64)
        y = released[c].to_numpy(dtype=np.float64)
        sst = float(((x - x.mean()) ** 2).sum())
        sse = float(((x - y) ** 2).sum())
        std = float(x.std()) or 1.0
        sse_all += sse / std**2
        sst_all += sst / std**2
        out[c] = round(sse / sst, 4) if sst > 0 else 0.0
    out["overall"] = round(sse_all / sst_all, 4) if sst_all > 0 else 0.0
    return out
