import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { UsageError } from './client';

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/, 'expected a name of letters, digits, _ . - (not starting with a digit)');

/**
 * A declarative project (`mlops apply -f`): the contracts (ingestion's PUT body plus `source`),
 * feature views (the feature store's YAML shape) and models (training parameters and the
 * feature view the loop retrains from). The services validate the details; this checks the
 * shape and the names that tie the parts together before anything is sent.
 */
const projectSchema = z
  .object({
    contracts: z.array(z.looseObject({ source: name, fields: z.record(z.string(), z.unknown()) })).default([]),
    featureViews: z.array(z.looseObject({ name, source: name })).default([]),
    models: z
      .array(
        z
          .object({
            name,
            /** The view the model trains on, and the one the loop materializes to retrain it. */
            featureView: name,
            target: z.string().min(1).optional(),
            params: z.record(z.string(), z.unknown()).optional(),
            /** The release policy (`PUT /registry/models/:name/policy`), checked by the registry. */
            policy: z.record(z.string(), z.unknown()).optional(),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export type Project = z.output<typeof projectSchema>;
export type ModelSpec = Project['models'][number];

/** The YAML files of `-f`: the file, or every `*.yaml`/`*.yml` in the directory (sorted). */
function projectFiles(cwd: string, path: string): string[] {
  const full = resolve(cwd, path);
  let stat;
  try {
    stat = statSync(full);
  } catch {
    throw new UsageError(`-f ${path}: no such file or directory`);
  }
  if (!stat.isDirectory()) return [full];
  const files = readdirSync(full)
    .filter((f) => ['.yaml', '.yml'].includes(extname(f)))
    .sort()
    .map((f) => join(full, f));
  if (files.length === 0) throw new UsageError(`-f ${path}: the directory has no .yaml or .yml file`);
  return files;
}

/** Reads and checks a project; every problem names its file and field. */
export function loadProject(cwd: string, path: string): Project {
  const merged: Project = { contracts: [], featureViews: [], models: [] };
  for (const file of projectFiles(cwd, path)) {
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`${file}: not valid YAML: ${(error as Error).message}`);
    }
    const parsed = projectSchema.safeParse(doc ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(document)'}: ${i.message}`);
      throw new UsageError(`${file}: ${issues.join('; ')}`);
    }
    merged.contracts.push(...parsed.data.contracts);
    merged.featureViews.push(...parsed.data.featureViews);
    merged.models.push(...parsed.data.models);
  }
  const twice = (kind: string, names: string[]) => {
    const seen = new Set<string>();
    for (const n of names) {
      if (seen.has(n)) throw new UsageError(`${path}: ${kind} "${n}" is defined twice`);
      seen.add(n);
    }
  };
  twice('contract', merged.contracts.map((c) => c.source));
  twice('feature view', merged.featureViews.map((v) => v.name));
  twice('model', merged.models.map((m) => m.name));
  return merged;
}

export function modelOf(project: Project, model: string, path: string): ModelSpec {
  const spec = project.models.find((m) => m.name === model);
  if (!spec) throw new UsageError(`${path} defines no model "${model}" (it defines: ${project.models.map((m) => m.name).join(', ') || 'none'})`);
  return spec;
}
