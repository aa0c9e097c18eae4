"""Study 3: MR-Ai NMR echo / anti-echo reconstruction, uncertainty and quality.

Spectra are real 2D arrays (n1, n2): axis 0 the indirect dimension (t1/F1),
axis 1 the direct one (t2/F2), as nmrglue reads NMRPipe files.

Modules: `plan` (what the rules need from the config), `jobs` (every rule's
entry function: simulate, MALT1 inputs, IST, training, reconstruction,
evaluation, summary), `simulate` (synthetic spectra), `ve` (virtual echo),
`ist` (CS-IST), `models` (Keras WNN-2D, cascade, uncertainty network),
`numpy_net` and `tiling` (inference without Keras), `train` (stages and
uncertainty networks, exact resume), `metrics`, `evaluate`, `score` (pSQ),
`report`, `io` and `process` (NMRPipe / Bruker files), `shipped` (the
packaged weights), `commands` and `cli`.
"""

STUDY = "nmr"
