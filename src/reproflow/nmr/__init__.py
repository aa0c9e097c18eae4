"""Study 3: MR-Ai NMR echo / anti-echo reconstruction, uncertainty and quality.

Spectra are real 2D arrays (n1, n2): axis 0 the indirect dimension (t1/F1),
axis 1 the direct one (t2/F2), as nmrglue reads NMRPipe files.
"""

STUDY = "nmr"
