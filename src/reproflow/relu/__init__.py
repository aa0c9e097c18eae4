"""Study 2: "Deep Learning using Rectified Linear Units (ReLU)" (Agarap 2018).

Modules: `paths` (where the jobs write), `plan` (the job list), `idx` (IDX
reader), `data` (loading and preprocessing per protocol), `models` (Keras
models and the ReLU-head loss), `train` (the paper's and the clean
cross-validation), `job` (one training job's files), `evaluate` (metrics,
confusion matrices), `summary` (the study's summary files), `paper` (the
paper's numbers) and `report` (ours beside the paper's).
"""
