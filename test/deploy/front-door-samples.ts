import { FRONT_DOOR_SERVICES } from '../../platform/embedded/src/front-door/routes';

/** Paths of every kind in the routing table; where each goes is routeOf's answer (the embedded table). */
export const ROUTE_SAMPLES: [method: string, url: string][] = [
  ['POST', '/api/2.0/mlflow/registered-models/create'],
  ['GET', '/api/2.0/mlflow/registered-models/get?name=churn'],
  ['GET', '/api/2.0/mlflow/registered-models/alias?name=churn&alias=champion'],
  ['POST', '/api/2.0/mlflow/model-versions/search'],
  ['GET', '/ajax-api/2.0/mlflow/registered-models/search'],
  ['GET', '/ajax-api/2.0/mlflow/model-versions/get?name=churn&version=1'],
  ['POST', '/api/2.0/mlflow/experiments/create'],
  ['GET', '/api/2.0/mlflow/runs/get?run_id=abc'],
  ['PUT', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/notes.txt'],
  ['POST', '/ajax-api/2.0/mlflow/runs/search'],
  ['POST', '/registry/models/churn/promote'],
  ['GET', '/registry/models/a%2Fb/versions/1?x=%20y'],
  ['GET', '/loop/health/ready'],
  ['GET', '/loop/api/loops?model=churn&status=closed'],
  ['GET', '/tracking/api/2.0/mlflow/experiments/search'],
  ...FRONT_DOOR_SERVICES.map((s): [string, string] => ['GET', `/${s}/health/live`]),
  ['GET', '/serving/metrics'],
  ['PUT', '/ingestion/sources/clicks/contract'],
];
