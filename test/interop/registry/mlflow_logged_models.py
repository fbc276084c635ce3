"""MLflow 3 logged models into our registry with the official client, unmodified.

Environment: MLFLOW_TRACKING_URI (our tracking, with logged-models), MLFLOW_REGISTRY_URI (our
registry), MODEL_NAME. mlflow.onnx.log_model / mlflow.sklearn.log_model create logged models
(`models:/<model_id>`); register_model from `runs:/<run_id>/<name>` (no MLmodel in the run's
artifacts: the client and the registry find the run's logged model) and from `models:/<id>`.
Prints one JSON document.
"""
import json
import os

import mlflow
import mlflow.onnx
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

name = os.environ["MODEL_NAME"]
rng = np.random.default_rng(1)
x = rng.normal(size=(100, 3)).astype(np.float32)
y = (x[:, 0] > 0).astype(np.int64)
sk = LogisticRegression().fit(x, y)
onx = to_onnx(sk, x[:1], options={id(sk): {"zipmap": False}})
mlflow.set_experiment(f"{name}-experiment")
with mlflow.start_run() as run:
    mlflow.log_metric("accuracy", 0.9)
    onnx_info = mlflow.onnx.log_model(onx, name="model")
    sk_info = mlflow.sklearn.log_model(sk, name="skmodel")

out = {"run_id": run.info.run_id, "onnx_model_uri": onnx_info.model_uri}
v1 = mlflow.register_model(f"runs:/{run.info.run_id}/model", name)
v2 = mlflow.register_model(onnx_info.model_uri, name)
v3 = mlflow.register_model(f"runs:/{run.info.run_id}/skmodel", name)
out["versions"] = [[v.version, v.source, v.run_id, dict(v.tags)] for v in (v1, v2, v3)]
client = MlflowClient()
out["download_uri"] = client.get_model_version_download_uri(name, "1")
rows = x[:8]
out["expected"] = sk.predict(rows).tolist()
out["labels"] = [
    np.asarray(mlflow.pyfunc.load_model(f"models:/{name}/{v}").predict(rows)["label"]).reshape(-1).tolist() for v in ("1", "2")
]
try:
    # Making it the champion would deploy it: refused.
    client.set_registered_model_alias(name, "champion", "3")
    out["not_servable_error"] = None
except MlflowException as e:
    out["not_servable_error"] = e.message
# While no champion serves, the tutorials' Production stage is for MLflow clients only.
out["production_stage"] = client.transition_model_version_stage(name, "3", "Production").current_stage
print(json.dumps(out))
