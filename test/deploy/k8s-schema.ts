import type { K8sObject } from './deploy-files';

/**
 * Validates a manifest against the official Kubernetes OpenAPI schema, as shipped (compiled)
 * by `kubernetes-models`: each model class checks required fields, types and enums of its kind.
 * Like `kubectl apply --validate=false`, it does not reject unknown fields.
 */
type Model = new (data: object) => { validate(): void };

async function models(): Promise<Record<string, Model>> {
  const [core, apps, networking] = await Promise.all([import('kubernetes-models/v1'), import('kubernetes-models/apps/v1'), import('kubernetes-models/networking.k8s.io/v1')]);
  // Cast: under this workspace's node10 module resolution the models' base class types
  // (@kubernetes-models/base, exports-only) do not resolve, so `validate` is not visible to tsc.
  return {
    'v1/ConfigMap': core.ConfigMap,
    'v1/Namespace': core.Namespace,
    'v1/PersistentVolumeClaim': core.PersistentVolumeClaim,
    'v1/Secret': core.Secret,
    'v1/Service': core.Service,
    'apps/v1/Deployment': apps.Deployment,
    'apps/v1/StatefulSet': apps.StatefulSet,
    'networking.k8s.io/v1/Ingress': networking.Ingress,
  } as unknown as Record<string, Model>;
}

/** The schema errors of one object ([] when valid); an unsupported kind is an error too. */
export async function schemaErrors(object: K8sObject): Promise<string[]> {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = (await models())[key];
  if (!Model) return [`${key}: no schema wired in test/deploy/k8s-schema.ts`];
  const { apiVersion: _apiVersion, kind: _kind, ...data } = object;
  try {
    new Model(data).validate();
    return [];
  } catch (error) {
    return [`${key} ${object.metadata?.name}: ${error instanceof Error ? error.message : String(error)}`];
  }
}
