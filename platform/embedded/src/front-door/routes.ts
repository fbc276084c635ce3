/**
 * The front door's routing table: one URL for users, in both modes. Embedded mode serves it
 * in process (front-door.ts); distributed mode through nginx (deploy/nginx/front-door.conf.template)
 * or the Kubernetes Ingress (deploy/k8s/ingress.yaml). test/deploy checks both against this table.
 */

/** The services with an HTTP API under `/<service>/`, in the order the index lists them. */
export const FRONT_DOOR_SERVICES = ['ingestion', 'feature-store', 'tracking', 'registry', 'trainer', 'serving', 'monitoring', 'loop'] as const;
export type FrontDoorService = (typeof FRONT_DOOR_SERVICES)[number];

/**
 * MLflow REST paths, passed through unchanged (so `MLFLOW_TRACKING_URI` alone serves tracking
 * and the model registry). First match wins: the registry's prefixes come before tracking's,
 * which cover them. `/api/2.0/mlflow` covers `/api/2.0/mlflow-artifacts` too.
 */
export const MLFLOW_ROUTES: readonly { prefix: string; service: 'registry' | 'tracking' }[] = [
  { prefix: '/api/2.0/mlflow/registered-models', service: 'registry' },
  { prefix: '/api/2.0/mlflow/model-versions', service: 'registry' },
  { prefix: '/ajax-api/2.0/mlflow/registered-models', service: 'registry' },
  { prefix: '/ajax-api/2.0/mlflow/model-versions', service: 'registry' },
  { prefix: '/api/2.0/mlflow', service: 'tracking' },
  { prefix: '/ajax-api/', service: 'tracking' },
];

export interface Route {
  service: FrontDoorService;
  /** The path (and query) the service sees. */
  url: string;
}

/**
 * Where a request URL goes: an MLflow path to tracking or the registry unchanged, `/<service>/...`
 * to that service without the prefix; undefined for anything else (`/`, `/healthz`, unknown).
 */
export function routeOf(url: string): Route | undefined {
  const path = url.split('?')[0];
  const mlflow = MLFLOW_ROUTES.find((r) => path.startsWith(r.prefix));
  if (mlflow) return { service: mlflow.service, url };
  const prefixed = /^\/([a-z-]+)(\/.*)$/.exec(url);
  const service = FRONT_DOOR_SERVICES.find((s) => s === prefixed?.[1]);
  return service ? { service, url: prefixed![2] } : undefined;
}

/** What the front door answers at `/` until the web console lives there: where everything is. */
export function frontDoorIndex(): { description: string; mlflow: Record<string, string>; services: Record<FrontDoorService, string>; grpc: string } {
  return {
    description: 'mlops-platform front door: MLFLOW_TRACKING_URI=<this URL> serves MLflow tracking and the model registry; each service HTTP API is under /<service>/',
    mlflow: Object.fromEntries(MLFLOW_ROUTES.map((r) => [`${r.prefix}*`, r.service])),
    services: Object.fromEntries(FRONT_DOOR_SERVICES.map((s) => [s, `/${s}/`])) as Record<FrontDoorService, string>,
    grpc: 'gRPC (serving KServe v2, feature store GetOnlineFeatures) stays on its own ports',
  };
}
