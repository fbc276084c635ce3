"""Drives our tracking service with the official mlflow client, unmodified.

Environment: MLFLOW_TRACKING_URI (our service), EXPERIMENT_NAME, HTTP_RUN_ID (a run created
through our HTTP API). Prints one JSON document with what the client read back.
"""
import json
import os
import tempfile
import time

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException

client = MlflowClient()
experiment = mlflow.set_experiment(os.environ["EXPERIMENT_NAME"])
# set_experiment again finds the existing one by name
assert mlflow.set_experiment(os.environ["EXPERIMENT_NAME"]).experiment_id == experiment.experiment_id

with mlflow.start_run(run_name="interop-run") as run:
    run_id = run.info.run_id
    mlflow.log_param("model", "logreg")
    mlflow.log_params({"lr": 0.01, "epochs": 3})
    for step, acc in enumerate([0.5, 0.7, 0.9]):
        mlflow.log_metric("acc", acc, step=step)
    mlflow.log_metrics({"loss": 0.25, "f1": 0.8}, step=2)
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric("batch_m", float(i), now + i, i) for i in range(5)],
        params=[Param("batch_p", "x")],
        tags=[RunTag("batch_t", "y")],
    )
    mlflow.set_tag("stage", "interop")
    with tempfile.TemporaryDirectory() as tmp:
        notes = os.path.join(tmp, "notes.txt")
        with open(notes, "w") as f:
            f.write("hello from mlflow")
        mlflow.log_artifact(notes)
        mlflow.log_artifact(notes, artifact_path="sub/dir")
    try:
        mlflow.log_param("model", "changed")
        param_change_error = None
    except MlflowException as e:
        param_change_error = e.error_code

other = client.create_run(experiment.experiment_id, run_name="low-acc")
client.log_metric(other.info.run_id, "acc", 0.1, step=0)
client.set_terminated(other.info.run_id, status="FAILED")

found = client.search_runs(
    [experiment.experiment_id],
    filter_string="metrics.acc > 0.8 AND params.model = 'logreg' AND attributes.status = 'FINISHED'",
    order_by=["metrics.acc DESC"],
)
ordered = client.search_runs([experiment.experiment_id], order_by=["metrics.acc ASC"], max_results=10)
finished = client.get_run(run_id)
with tempfile.TemporaryDirectory() as tmp:
    local = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="sub/dir/notes.txt", dst_path=tmp)
    with open(local) as f:
        downloaded = f.read()
http_run = client.get_run(os.environ["HTTP_RUN_ID"])

print(
    json.dumps(
        {
            "experiment_id": experiment.experiment_id,
            "artifact_location": experiment.artifact_location,
            "run_id": run_id,
            "other_run_id": other.info.run_id,
            "status": finished.info.status,
            "end_time": finished.info.end_time,
            "artifact_uri": finished.info.artifact_uri,
            "params": finished.data.params,
            "metrics": finished.data.metrics,
            "tags": {k: v for k, v in finished.data.tags.items() if not k.startswith("mlflow.source")},
            "history": [[m.step, m.value] for m in client.get_metric_history(run_id, "acc")],
            "batch_history": [[m.step, m.value] for m in client.get_metric_history(run_id, "batch_m")],
            "search": [r.info.run_id for r in found],
            "ordered": [r.info.run_name for r in ordered],
            "artifacts": [[a.path, a.is_dir] for a in client.list_artifacts(run_id)],
            "nested_artifacts": [[a.path, a.file_size] for a in client.list_artifacts(run_id, "sub/dir")],
            "downloaded": downloaded,
            "param_change_error": param_change_error,
            "http_run": {
                "name": http_run.info.run_name,
                "params": http_run.data.params,
                "metrics": http_run.data.metrics,
                "tags": http_run.data.tags,
            },
        }
    )
)
