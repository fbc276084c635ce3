"""Trains scikit-learn models on a given dataset, exports them with skl2onnx and prints
what scikit-learn itself predicts, so a test can compare the ONNX files run elsewhere.

usage: sklearn_models.py DATA.json OUT_DIR
DATA.json: {"rows": number[][], "target": number[]} (binary 0/1 target).
Writes OUT_DIR/<name>.onnx (input `input` FP32 [-1, n_features]; outputs `label` INT64 [-1]
and `probabilities` FP32 [-1, 2]) and prints JSON {<name>: {"label": [...],
"probabilities": [[...]], "opsets": {...}}} computed by scikit-learn on the same rows (as
float32, what the ONNX model receives). Deterministic: fixed seeds.
"""
import json
import os
import sys

import numpy as np
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main(data_path: str, out: str) -> None:
    with open(data_path) as f:
        data = json.load(f)
    x = np.asarray(data["rows"], dtype=np.float32)
    y = np.asarray(data["target"], dtype=np.int64)
    models = {
        "sklearn_logreg": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=0)),
        "sklearn_mlp": make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), activation="tanh", max_iter=2000, random_state=0)),
        "sklearn_gbt": GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=0),
    }
    report = {}
    for name, model in models.items():
        model.fit(x, y)
        onx = to_onnx(
            model,
            initial_types=[("input", FloatTensorType([None, x.shape[1]]))],
            options={id(model.steps[-1][1] if hasattr(model, "steps") else model): {"zipmap": False}},
            target_opset={"": 15, "ai.onnx.ml": 3},
        )
        with open(os.path.join(out, f"{name}.onnx"), "wb") as f:
            f.write(onx.SerializeToString())
        report[name] = {
            "label": model.predict(x).tolist(),
            "probabilities": model.predict_proba(x).tolist(),
            "opsets": {o.domain or "ai.onnx": o.version for o in onx.opset_import},
        }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
