"""The official mlflow client through the platform's front door, as MLflow users work: only
MLFLOW_TRACKING_URI is set (no MLFLOW_REGISTRY_URI), and it serves tracking and the registry.

Environment: MLFLOW_TRACKING_URI (the front door), EXPERIMENT_NAME, NEW_MODEL (a registered model
to create and read back), EXISTING_MODEL (optional: one the platform registered, to read).
(search_registered_models is left out: the client adds a prompt-tag filter the registry does not
parse yet.) Logs a run with a
param, a metric history and an artifact. Prints one JSON document (last line) with what it read.
"""
import json
import os
import tempfile

import mlflow
from mlflow import MlflowClient

assert "MLFLOW_REGISTRY_URI" not in os.environ, "the front door must work with MLFLOW_TRACKING_URI alone"
client = MlflowClient()
experiment = mlflow.set_experiment(os.environ["EXPERIMENT_NAME"])
with mlflow.start_run(run_name="front-door-run") as run:
    mlflow.log_param("lr", "0.1")
    for step in range(3):
        mlflow.log_metric("loss", 1 / (step + 1), step=step)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "notes.txt")
        with open(path, "w") as f:
            f.write("through the front door")
        mlflow.log_artifact(path)
run_id = run.info.run_id
finished = client.get_run(run_id)

created = client.create_registered_model(os.environ["NEW_MODEL"], tags={"origin": "front-door"})
fetched = client.get_registered_model(os.environ["NEW_MODEL"])
existing = None
if os.environ.get("EXISTING_MODEL"):
    model = client.get_registered_model(os.environ["EXISTING_MODEL"])
    existing = {"name": model.name, "aliases": dict(model.aliases)}

print(json.dumps({
    "experiment_id": experiment.experiment_id,
    "run_id": run_id,
    "status": finished.info.status,
    "params": finished.data.params,
    "history": [[m.step, m.value] for m in client.get_metric_history(run_id, "loss")],
    "artifacts": [a.path for a in client.list_artifacts(run_id)],
    "created": created.name,
    "fetched": {"name": fetched.name, "tags": fetched.tags},
    "existing": existing,
}))
