"""The MLflow 3 flows every tutorial teaches, with the official client, unmodified, against our tracking.

Environment: MLFLOW_TRACKING_URI (our tracking service; no registry), EXPERIMENT_NAME.
Prints one JSON document with what the client read back.
"""
import json
import os
import struct
import tempfile
import zlib

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from sklearn.linear_model import LogisticRegression


def png(width, height):
    """A real PNG (RGB, one colour), written by hand so the test needs no imaging library."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x20\x80\xc0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


client = MlflowClient()
name = os.environ["EXPERIMENT_NAME"]
experiment = mlflow.set_experiment(name)
experiment_id = experiment.experiment_id

# Experiment tags and rename.
mlflow.set_experiment_tag("team", "fraud")
client.set_experiment_tag(experiment_id, "owner", "ml-platform")
renamed = f"{name}-renamed"
client.rename_experiment(experiment_id, renamed)
experiment = client.get_experiment(experiment_id)
mlflow.set_experiment(renamed)

X = np.array([[0.0, 0.1], [0.2, 0.1], [0.9, 1.0], [1.0, 0.8], [0.1, 0.3], [0.8, 0.9]])
y = np.array([0, 0, 1, 1, 0, 1])
frame = pd.DataFrame(X, columns=["f0", "f1"]).assign(label=y)

with mlflow.start_run(run_name="sklearn-run") as run:
    run_id = run.info.run_id
    dataset = mlflow.data.from_pandas(frame, source="s3://bucket/train.parquet", name="train", targets="label")
    mlflow.log_input(dataset, context="training")
    model = LogisticRegression().fit(X, y)
    mlflow.log_param("C", 1.0)
    mlflow.log_metric("acc", 0.9)
    info = mlflow.sklearn.log_model(model, name="model", input_example=X[:2])
    with tempfile.TemporaryDirectory() as tmp:
        plot = os.path.join(tmp, "plot.png")
        with open(plot, "wb") as f:
            f.write(png(4, 3))
        mlflow.log_artifact(plot, artifact_path="plots")

# Two more runs to search: OR, order_by metrics DESC.
for run_name, acc, kind in [("low", 0.2, "tree"), ("mid", 0.5, "linear")]:
    with mlflow.start_run(run_name=run_name):
        mlflow.log_metric("acc", acc)
        mlflow.log_param("kind", kind)

model_id = info.model_id
logged = client.get_logged_model(model_id)
found_models = mlflow.search_logged_models(experiment_ids=[experiment_id], filter_string="name = 'model'", output_format="list")
finished = client.get_run(run_id)

# Load the sklearn model back: by its logged-model URI and through the run.
by_model = mlflow.pyfunc.load_model(f"models:/{model_id}")
by_run = mlflow.sklearn.load_model(f"runs:/{run_id}/model")
predictions = [int(v) for v in by_model.predict(X)]

or_runs = client.search_runs(
    [experiment_id],
    filter_string="metrics.acc > 0.8 OR params.kind = 'tree'",
    order_by=["metrics.acc DESC"],
)
ordered = client.search_runs([experiment_id], order_by=["metrics.acc DESC"])
dataset_runs = client.search_runs([experiment_id], filter_string="datasets.name = 'train' AND datasets.context = 'training'")
frame_runs = mlflow.search_runs(experiment_ids=[experiment_id], filter_string="metrics.acc < 0.6 OR metrics.acc > 0.8", order_by=["metrics.acc DESC"])

with tempfile.TemporaryDirectory() as tmp:
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="plots/plot.png", dst_path=tmp)
    with open(local, "rb") as f:
        downloaded_png = f.read()

try:
    client.get_logged_model("m-doesnotexist")
    missing_error = None
except MlflowException as e:
    missing_error = e.error_code

print(
    json.dumps(
        {
            "experiment_id": experiment_id,
            "experiment_name": experiment.name,
            "experiment_tags": {k: v for k, v in experiment.tags.items() if not k.startswith("mlflow.")},
            "run_id": run_id,
            "model_id": model_id,
            "model_uri": info.model_uri,
            "logged": {
                "name": logged.name,
                "status": str(logged.status),
                "source_run_id": logged.source_run_id,
                "artifact_location": logged.artifact_location,
                "params": logged.params,
            },
            "model_files": sorted(a.path for a in client.list_logged_model_artifacts(model_id)),
            "run_model_files": sorted(a.path for a in client.list_artifacts(run_id, "model")),
            "search_logged_models": [m.model_id for m in found_models],
            "outputs": [[o.model_id, o.step] for o in finished.outputs.model_outputs],
            "inputs": [
                [d.dataset.name, d.dataset.source_type, {t.key: t.value for t in d.tags}] for d in finished.inputs.dataset_inputs
            ],
            "predictions": predictions,
            "by_run_classes": [int(c) for c in by_run.classes_],
            "or_runs": [r.info.run_name for r in or_runs],
            "ordered": [r.info.run_name for r in ordered],
            "dataset_runs": [r.info.run_name for r in dataset_runs],
            "frame_runs": list(frame_runs["tags.mlflow.runName"]),
            "acc_history": [[m.step, m.value] for m in client.get_metric_history(run_id, "acc")],
            "png": list(downloaded_png[:8]),
            "png_size": len(downloaded_png),
            "png_expected_size": len(png(4, 3)),
            "missing_error": missing_error,
        }
    )
)
