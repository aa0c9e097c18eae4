"""Study 1: "A Neural Network Architecture Combining GRU and SVM for Intrusion
Detection in Network Traffic Data" (Agarap 2018), on Kyoto 2013 honeypot data.

Modules: `paths` (where the jobs write), `plan` (what the rules need from
the config: days, inputs, runs), `kyoto` (format spec, streaming parser on pyarrow, rejects), `synth`
(synthetic Kyoto-format generator: never Kyoto results), `preprocess`
(partial statistics, fit and transform per protocol, dataset assembly),
`steps` (the preprocessing rules' file-to-file functions), `models` (Keras
GRU-SVM / GRU-Softmax and the L2-SVM loss), `train` and `job` (one training
job), `baselines`, `evaluate`, `summary`, `paper` (the paper's numbers),
`report`, `predict` and `cli`.
"""
