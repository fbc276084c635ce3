import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { WORKSPACE_ROOT } from './env-schema';

export const read = (path: string) => readFileSync(join(WORKSPACE_ROOT, path), 'utf8');

/** `KEY: value` or `[KEY=value]`; compose accepts both, values may be numbers or booleans. */
const composeEnv = z
  .union([
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    z.array(z.string().regex(/^[A-Z0-9_]+=/, 'expected KEY=value')),
  ])
  .transform((env): Record<string, string> =>
    Array.isArray(env)
      ? Object.fromEntries(env.map((item) => [item.slice(0, item.indexOf('=')), item.slice(item.indexOf('=') + 1)]))
      : Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
  );

const composeService = z.object({
  image: z.string().optional(),
  build: z.object({ context: z.string(), dockerfile: z.string(), args: z.record(z.string(), z.string()).optional() }).optional(),
  environment: composeEnv.default({}),
  ports: z.array(z.string().regex(/^(\d+:)?\d+$/, 'expected "host:container"')).default([]),
  healthcheck: z.object({ test: z.array(z.string()).min(2) }).optional(),
  depends_on: z
    .union([
      z.array(z.string()).transform((names) => Object.fromEntries(names.map((n) => [n, { condition: 'service_started' }]))),
      z.record(z.string(), z.object({ condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']) })),
    ])
    .default({}),
  volumes: z.array(z.string()).default([]),
});
export type ComposeService = z.output<typeof composeService>;

const composeFile = z.object({
  services: z.record(z.string(), composeService),
  volumes: z.record(z.string(), z.unknown().nullable()).optional(),
});

/** docker-compose.yml, with YAML merge keys (`<<: *anchor`) resolved as compose does. */
export function loadCompose(text = read('docker-compose.yml')) {
  return composeFile.parse(parse(text, { merge: true }));
}

/** The container side of a compose port mapping ("3001:3001" -> 3001). */
export const containerPort = (mapping: string) => Number(mapping.split(':').at(-1));

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

const kustomization = z.object({ resources: z.array(z.string()).min(1), namespace: z.string().optional() });

/** The manifests deploy/k8s/kustomization.yaml lists, one object per YAML document. */
export function loadK8s(): { resources: string[]; objects: (K8sObject & { file: string })[] } {
  const { resources } = kustomization.parse(parse(read('deploy/k8s/kustomization.yaml')));
  const objects = resources.flatMap((file) =>
    parseAllDocuments(read(`deploy/k8s/${file}`)).map((doc) => {
      if (doc.errors.length) throw new Error(`deploy/k8s/${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      return { ...(doc.toJS() as K8sObject), file };
    }),
  );
  return { resources, objects };
}

const prometheusConfig = z.object({
  scrape_configs: z.array(
    z.object({
      job_name: z.string(),
      metrics_path: z.string().default('/metrics'),
      static_configs: z.array(z.object({ targets: z.array(z.string().regex(/^[\w.-]+:\d+$/, 'expected host:port')) })),
    }),
  ),
});

export function loadPrometheus() {
  return prometheusConfig.parse(parse(read('deploy/prometheus/prometheus.yml')));
}
