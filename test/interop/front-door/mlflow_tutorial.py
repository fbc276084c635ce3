"""The flow MLflow's tutorials teach, typed as a data scientist would, with ONLY
MLFLOW_TRACKING_URI set (the platform's front door): experiment, runs with params and
metrics, a scikit-learn model logged with mlflow.sklearn.log_model, a PNG artifact, the best
run found by search_runs, registered from runs:/, moved to Production, loaded back with
pyfunc; then the same with an ONNX flavor model, which the platform can also serve.
Prints one JSON line with what it saw."""
import json
import os
import sys
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import mlflow.onnx
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from skl2onnx import to_onnx
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

assert "MLFLOW_REGISTRY_URI" not in os.environ, "the point is that the tracking URI alone is enough"
name = os.environ["MODEL_NAME"]
onnx_name = os.environ["ONNX_MODEL_NAME"]

X, y = make_classification(n_samples=600, n_features=4, n_informative=3, n_redundant=0, random_state=7)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=7)

mlflow.set_experiment(os.environ["EXPERIMENT_NAME"])
for C in (0.01, 1.0):
    with mlflow.start_run():
        mlflow.log_params({"C": C, "solver": "lbfgs"})
        model = LogisticRegression(C=C).fit(X_train, y_train)
        predicted = model.predict(X_test)
        mlflow.log_metrics({"f1_score": f1_score(y_test, predicted), "accuracy": accuracy_score(y_test, predicted)})
        mlflow.sklearn.log_model(model, "model")
        figure, axes = plt.subplots()
        axes.plot(model.coef_[0], marker="o")
        png = os.path.join(tempfile.mkdtemp(), "coefficients.png")
        figure.savefig(png)
        mlflow.log_artifact(png)

runs = mlflow.search_runs(order_by=["metrics.f1_score DESC"])
best = runs.iloc[0]
version = mlflow.register_model(f"runs:/{best.run_id}/model", name)
client = MlflowClient()
client.transition_model_version_stage(name, version.version, "Production")
production = mlflow.pyfunc.load_model(f"models:/{name}/Production")
sklearn_predictions = production.predict(X_test[:5]).tolist()
artifacts = [f.path for f in client.list_artifacts(best.run_id)]

# The ONNX flavor: the same model family, converted with skl2onnx, logged, registered, promoted.
with mlflow.start_run() as run:
    model = LogisticRegression(C=1.0).fit(X_train, y_train)
    mlflow.log_params({"C": 1.0})
    mlflow.log_metrics({"accuracy": accuracy_score(y_test, model.predict(X_test))})
    onnx_model = to_onnx(model, X_train[:1], options={id(model): {"zipmap": False}})
    mlflow.onnx.log_model(onnx_model, "model")
onnx_version = mlflow.register_model(f"runs:/{run.info.run_id}/model", onnx_name)
client.transition_model_version_stage(onnx_name, onnx_version.version, "Production")
onnx_loaded = mlflow.pyfunc.load_model(f"models:/{onnx_name}/Production")
onnx_out = onnx_loaded.predict(X_test[:5])

# The promoted ONNX version answers KServe v2 gRPC (serving loaded it from the registry's events).
grpc_labels = None
if os.environ.get("SERVING_GRPC"):
    import tritonclient.grpc as grpcclient

    triton = grpcclient.InferenceServerClient(os.environ["SERVING_GRPC"])
    deadline = time.time() + 60
    while not triton.is_model_ready(onnx_name):
        if time.time() > deadline:
            raise SystemExit(f"serving did not load {onnx_name} within 60 s")
        time.sleep(0.2)
    metadata = triton.get_model_metadata(onnx_name, as_json=True)
    rows = grpcclient.InferInput(metadata["inputs"][0]["name"], [5, X_test.shape[1]], "FP32")
    rows.set_data_from_numpy(X_test[:5])
    answer = triton.infer(onnx_name, [rows])
    grpc_labels = answer.as_numpy("label").tolist()

print(
    json.dumps(
        {
            "best_run": best.run_id,
            "best_f1": float(best["metrics.f1_score"]),
            "f1_scores": [float(v) for v in runs["metrics.f1_score"]],
            "artifacts": artifacts,
            "version": str(version.version),
            "stage": client.get_model_version(name, version.version).current_stage,
            "sklearn_predictions": sklearn_predictions,
            "expected_predictions": LogisticRegression(C=float(best["params.C"])).fit(X_train, y_train).predict(X_test[:5]).tolist(),
            "onnx_version": str(onnx_version.version),
            "onnx_stage": client.get_model_version(onnx_name, onnx_version.version).current_stage,
            "onnx_pyfunc_outputs": sorted(onnx_out.keys()) if isinstance(onnx_out, dict) else str(type(onnx_out)),
            "onnx_labels": np.asarray(onnx_out["label"]).tolist() if isinstance(onnx_out, dict) else None,
            "grpc_labels": grpc_labels,
        }
    )
)
sys.stdout.flush()
