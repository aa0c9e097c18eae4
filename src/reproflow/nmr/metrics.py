"""Reference-based spectrum quality, exactly as the MR-Ai authors coded it."""

from __future__ import annotations

import numpy as np

MALT1_CUT = (100, 800)  # direct-dimension points kept on MALT1, before anything else
LEVEL = 0.01  # points kept: |ref| or |rec| above this share of max(ref)


def cut_for(set_name: str) -> tuple[int, int] | None:
    """The direct-dimension cut a set is scored on: MALT1's, as the authors; none for simulated sets."""
    return MALT1_CUT if set_name == "malt1" else None


def crop(cut: tuple[int, int] | None, *spectra: np.ndarray) -> tuple[np.ndarray, ...]:
    """The spectra cut to direct-dimension points cut[0]:cut[1] (MALT1), or as they are."""
    return spectra if cut is None else tuple(s[..., cut[0]:cut[1]] for s in spectra)


def normalise_pair(reference: np.ndarray, reconstruction: np.ndarray, cut: tuple[int, int] | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Cut the direct dimension (MALT1) and divide both by max(reference)."""
    reference, reconstruction = crop(cut, reference, reconstruction)
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
