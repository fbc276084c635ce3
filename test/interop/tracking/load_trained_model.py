"""Reads a trainer run back with the official mlflow client and runs its model in onnxruntime.

Environment: MLFLOW_TRACKING_URI (our tracking service), RUN_ID, ROWS (JSON list of feature rows).
Prints one JSON document with what the client read and what the model predicted.
"""
import json
import os

import mlflow
import mlflow.onnx
import numpy as np
import onnxruntime
from mlflow import MlflowClient

client = MlflowClient()
run_id = os.environ["RUN_ID"]
rows = np.asarray(json.loads(os.environ["ROWS"]), dtype=np.float32)

run = mlflow.get_run(run_id)
model_ids = [o.model_id for o in run.outputs.model_outputs]
by_run = mlflow.onnx.load_model(f"runs:/{run_id}/model")
by_id = mlflow.onnx.load_model(f"models:/{model_ids[0]}")
session = onnxruntime.InferenceSession(by_run.SerializeToString(), providers=["CPUExecutionProvider"])
labels = session.run(["label"], {session.get_inputs()[0].name: rows})[0]
pyfunc = mlflow.pyfunc.load_model(f"models:/{model_ids[0]}")
info = mlflow.models.get_model_info(f"models:/{model_ids[0]}")
logged = client.get_logged_model(model_ids[0])

print(
    json.dumps(
        {
            "model_ids": model_ids,
            "status": str(logged.status),
            "name": logged.name,
            "source_run_id": logged.source_run_id,
            "run_files": sorted(f.path for f in client.list_artifacts(run_id)),
            "run_model_files": sorted(f.path for f in client.list_artifacts(run_id, "model")),
            "model_files": sorted(f.path for f in client.list_logged_model_artifacts(model_ids[0])),
            "same_graph": by_run.SerializeToString() == by_id.SerializeToString(),
            "labels": [int(v) for v in labels],
            "pyfunc_labels": [int(v) for v in pyfunc.predict(rows)["label"]],
            "signature_inputs": info.signature.inputs.to_dict(),
            "flavors": sorted(info.flavors),
            "metadata": info.metadata,
        }
    )
)
