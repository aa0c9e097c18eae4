"""Reference-based spectrum quality, exactly as the MR-Ai authors coded it."""

from __future__ import annotations

import numpy as np

MALT1_CUT = (100, 800)  # direct-dimension points kept on MALT1, before anything else
LEVEL = 0.01  # points kept: |ref| or |rec| above this share of max(ref)


def normalise_pair(reference: np.ndarray, reconstruction: np.ndarray, cut: tuple[int, int] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Cut the direct dimension (MALT1) and divide both by max(reference)."""
    if cut is not None:
        reference = reference[..., cut[0]:cut[1]]
        reconstruction = reconstruction[..., cut[0]:cut[1]]
    scale = float(np.max(reference))
    if scale <= 0:
        raise ValueError("the reference spectrum has no positive maximum")
    return reference / scale, reconstruction / scale


def selected(reference: np.ndarray, reconstruction: np.ndarray, level: float = LEVEL) -> np.ndarray:
    return (np.abs(reference) > level) | (np.abs(reconstruction) > level)


def quality(reference: np.ndarray, reconstruction: np.ndarray, cut: tuple[int, int] | None = None,
            level: float = LEVEL) -> dict[str, float]:
    """Pearson r (the paper's "R2s") and RMSD in units of max(reference), over
    points where either spectrum exceeds `level` of max(reference)."""
    ref, rec = normalise_pair(np.asarray(reference, float), np.asarray(reconstruction, float), cut)
    keep = selected(ref, rec, level)
    a, b = ref[keep], rec[keep]
    r = float(np.corrcoef(a, b)[0, 1]) if a.size > 1 else float("nan")
    rmsd = float(np.sqrt(np.mean((a - b) ** 2))) if a.size else float("nan")
    return {"r": r, "rmsd": rmsd, "points": int(a.size)}
