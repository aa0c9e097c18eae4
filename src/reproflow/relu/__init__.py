"""Study 2: "Deep Learning using Rectified Linear Units (ReLU)" (Agarap 2018).

Modules: `paths` (where the jobs write), `plan` (what the rules need from
the config), `jobs` (every rule's entry function: one data set prepared, one
training job, the summary), `idx` (IDX reader), `data` (loading and
preprocessing per protocol), `models` (Keras models and the ReLU-head loss),
`train` (the paper's and the clean cross-validation), `evaluate` (metrics,
confusion matrices), `paper` (the paper's numbers) and `report` (ours beside the paper's).
"""
