"""Drives our registry (and tracking) with the official mlflow 3 client, unmodified.

Environment: MLFLOW_TRACKING_URI (our tracking service), MLFLOW_REGISTRY_URI (our registry),
MODEL_NAME, EXPERIMENT_NAME. Prints one JSON document with what the client did and read back.
Models are written locally (mlflow.onnx.save_model / mlflow.sklearn.save_model) and logged
with log_artifacts, so only the runs and artifact routes of tracking are used.
"""
import json
import os
import tempfile

import mlflow
import mlflow.onnx
import mlflow.sklearn
import numpy as np
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from skl2onnx import to_onnx
from sklearn.linear_model import LogisticRegression

name = os.environ["MODEL_NAME"]
renamed = f"{name}-renamed"
client = MlflowClient()
out = {}


def error_of(call):
    try:
        call()
    except MlflowException as e:
        return {"code": e.error_code, "message": e.message}
    return None


def version_json(v):
    return {
        "version": v.version,
        "current_stage": v.current_stage,
        "run_id": v.run_id,
        "source": v.source,
        "description": v.description,
        "tags": dict(v.tags),
        "aliases": list(v.aliases),
    }


rng = np.random.default_rng(7)
x = rng.normal(size=(200, 3)).astype(np.float32)
y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
sk = LogisticRegression().fit(x, y)
onx = to_onnx(sk, x[:1], options={id(sk): {"zipmap": False}})

mlflow.set_experiment(os.environ["EXPERIMENT_NAME"])
with tempfile.TemporaryDirectory() as tmp:
    with mlflow.start_run(run_name="onnx") as run:
        mlflow.log_metric("accuracy", float((sk.predict(x) == y).mean()))
        mlflow.set_tag("mlops.dataset_hash", "sha256:interop-data")
        mlflow.onnx.save_model(onx, os.path.join(tmp, "onnx"))
        mlflow.log_artifacts(os.path.join(tmp, "onnx"), artifact_path="model")
    with mlflow.start_run(run_name="sklearn") as sk_run:
        mlflow.sklearn.save_model(sk, os.path.join(tmp, "sk"))
        mlflow.log_artifacts(os.path.join(tmp, "sk"), artifact_path="model")
run_id = run.info.run_id
out["run_id"] = run_id

# Registered models: create, search (the 3.x client adds the prompt clause to every search), tags, rename.
client.create_registered_model(name, tags={"team": "fraud"}, description="interop")
out["search_all"] = [m.name for m in client.search_registered_models()]
out["search_name"] = [m.name for m in client.search_registered_models(filter_string=f"name = '{name}'")]
client.set_registered_model_tag(name, "owner", "interop")
out["search_tag"] = [m.name for m in client.search_registered_models(filter_string="tags.owner = 'interop'")]
client.delete_registered_model_tag(name, "team")
client.update_registered_model(name, description="updated")
client.rename_registered_model(name, renamed)
model = client.get_registered_model(renamed)
out["renamed"] = {"name": model.name, "tags": dict(model.tags), "description": model.description}
out["old_name_error"] = error_of(lambda: client.get_registered_model(name))
out["bad_filter_error"] = error_of(lambda: client.search_registered_models(filter_string="name = "))

# Versions from runs:/ sources: the low-level create_model_version and mlflow.register_model.
v1 = client.create_model_version(renamed, f"runs:/{run_id}/model", run_id=run_id)
v2 = mlflow.register_model(f"runs:/{run_id}/model", renamed)
out["v1"] = version_json(v1)
out["v2"] = version_json(v2)
out["missing_run_error"] = error_of(lambda: client.create_model_version(renamed, "runs:/0123456789abcdef/model"))

# Stages (deprecated in MLflow, mapped onto aliases) and aliases.
out["v1_production"] = version_json(client.transition_model_version_stage(renamed, "1", "Production"))
out["v2_staging"] = version_json(client.transition_model_version_stage(renamed, "2", "Staging"))
out["latest_production"] = [v.version for v in client.get_latest_versions(renamed, stages=["Production"])]
out["latest_staging"] = [v.version for v in client.get_latest_versions(renamed, stages=["Staging"])]
out["bad_stage_error"] = error_of(lambda: client.transition_model_version_stage(renamed, "2", "Shipped"))
client.set_registered_model_alias(renamed, "blue", "2")
out["by_alias_champion"] = client.get_model_version_by_alias(renamed, "champion").version
out["by_alias_blue"] = client.get_model_version_by_alias(renamed, "blue").version
client.delete_registered_model_alias(renamed, "blue")
out["deleted_alias_error"] = error_of(lambda: client.get_model_version_by_alias(renamed, "blue"))
out["download_uri"] = client.get_model_version_download_uri(renamed, "1")

# Loading through the registry: by version, by (deprecated) stage and by alias.
rows = x[:8]
expected = sk.predict(rows).tolist()


def labels(uri):
    prediction = mlflow.pyfunc.load_model(uri).predict(rows)
    label = prediction["label"] if isinstance(prediction, dict) else prediction["label"].to_numpy()
    return np.asarray(label).reshape(-1).tolist()


out["expected_labels"] = expected
out["labels_v1"] = labels(f"models:/{renamed}/1")
out["labels_production"] = labels(f"models:/{renamed}/Production")
out["labels_champion"] = labels(f"models:/{renamed}@champion")

# A version that is not ONNX: accepted as MLflow accepts it, not servable, deploying it refused.
v3 = client.create_model_version(renamed, f"runs:/{sk_run.info.run_id}/model", run_id=sk_run.info.run_id)
out["v3"] = version_json(v3)
out["v3_production_error"] = error_of(lambda: client.transition_model_version_stage(renamed, "3", "Production"))
out["v3_champion_error"] = error_of(lambda: client.set_registered_model_alias(renamed, "champion", "3"))
out["v3_labels"] = np.asarray(mlflow.pyfunc.load_model(f"models:/{renamed}/3").predict(rows)).reshape(-1).tolist()

# The newest version first, as tutorials find "the latest": order_by and max_results.
out["latest_by_order"] = [v.version for v in client.search_model_versions(f"name = '{renamed}'", order_by=["version_number DESC"], max_results=1)]
out["versions_ascending"] = [v.version for v in client.search_model_versions(f"name = '{renamed}'", order_by=["version_number ASC"])]
client.create_registered_model(f"{renamed}_b")
out["models_by_name_desc"] = [m.name for m in client.search_registered_models(order_by=["name DESC"])]
client.delete_registered_model(f"{renamed}_b")
out["bad_order_error"] = error_of(lambda: client.search_model_versions(f"name = '{renamed}'", order_by=["size DESC"]))

# Version edits and deletes.
client.update_model_version(renamed, "2", description="staged")
client.set_model_version_tag(renamed, "2", "validated", "yes")
v2_read = client.get_model_version(renamed, "2")
out["v2_edited"] = version_json(v2_read)
out["search_versions_tag"] = [v.version for v in client.search_model_versions(f"name = '{renamed}' AND tags.validated = 'yes'")]
client.delete_model_version_tag(renamed, "2", "validated")
out["v2_tags_after_delete"] = dict(client.get_model_version(renamed, "2").tags)
out["delete_champion_error"] = error_of(lambda: client.delete_model_version(renamed, "1"))
client.delete_model_version(renamed, "2")
out["deleted_version_error"] = error_of(lambda: client.get_model_version(renamed, "2"))
out["versions_left"] = sorted(v.version for v in client.search_model_versions(f"name = '{renamed}'"))
client.delete_registered_model(renamed)
out["deleted_model_error"] = error_of(lambda: client.get_registered_model(renamed))

print(json.dumps(out))
