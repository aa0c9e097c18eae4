"""Study 1: "A Neural Network Architecture Combining GRU and SVM for Intrusion
Detection in Network Traffic Data" (Agarap 2018), on Kyoto 2013 honeypot data.

Modules: `paths` (where the jobs write), `plan` (what the rules need from
the config: days, inputs, runs), `jobs` (every rule's entry function: the
preprocessing steps, one training job, the baselines and the summary),
`kyoto` (format spec, streaming parser on pyarrow, rejects), `synth`
(synthetic Kyoto-format generator: never Kyoto results), `preprocess`
(partial statistics, fit and transform per protocol, dataset assembly),
`models` (Keras GRU-SVM / GRU-Softmax and the L2-SVM loss), `train` (one
arm's training, exact resume), `baselines`, `evaluate`, `paper` (the paper's
numbers), `report`, `predict` and `cli`.
"""
