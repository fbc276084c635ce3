// Writes each service's `.env.example` from its zod environment schema: every variable the
// service reads, its default (as the service's own loader resolves it), whether it is
// required, and the doc comment written beside it in the schema's source.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { z } from 'zod';

export const WORKSPACE_ROOT = resolve(__dirname, '../..');

export interface ServiceEnv {
  service: string;
  schema: z.ZodType;
  /** The service's loader: gives the defaults it adds on top of the schema's. */
  load: (env: NodeJS.ProcessEnv) => object;
}

interface Variable {
  name: string;
  required: boolean;
  /** Set when the variable belongs to one branch of a discriminated union, e.g. `BUS=kafka`. */
  when?: string;
  schemaDefault?: unknown;
}

type Def = { type: string; [key: string]: unknown };
const defOf = (schema: unknown): Def => (schema as { _zod: { def: Def } })._zod.def;

/** The variables of an object / intersection / discriminated-union schema, in declaration order. */
function variablesOf(schema: unknown, when?: string): Variable[] {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape as Record<string, unknown>).map(([name, field]) => ({ name, when, ...fieldFacts(field) }));
    case 'intersection':
      return [...variablesOf(def.left, when), ...variablesOf(def.right, when)];
    case 'union': {
      const discriminator = def.discriminator as string | undefined;
      const all = (def.options as unknown[]).flatMap((option) => {
        const literal = discriminator ? literalOf(defOf(option).shape as Record<string, unknown>, discriminator) : undefined;
        return variablesOf(option, literal === undefined ? when : `${discriminator}=${literal}`).map((v) => (v.name === discriminator ? { ...v, when } : v));
      });
      // A variable in several branches is listed once (the discriminator itself, say).
      return all.filter((v, i) => all.findIndex((w) => w.name === v.name) === i);
    }
    case 'pipe':
      return variablesOf(def.in, when);
    default:
      return [];
  }
}

function literalOf(shape: Record<string, unknown>, key: string): string | undefined {
  const def = defOf(shape[key]);
  return def.type === 'literal' ? String((def.values as unknown[])[0]) : undefined;
}

function fieldFacts(field: unknown): { required: boolean; schemaDefault?: unknown } {
  let def = defOf(field);
  let required = true;
  for (;;) {
    if (def.type === 'default') return { required: false, schemaDefault: def.defaultValue };
    if (def.type === 'optional') required = false;
    if (def.type === 'optional' || def.type === 'nullable') def = defOf(def.innerType);
    else if (def.type === 'pipe') def = defOf(def.in);
    else return { required };
  }
}

/** `/** doc *\/` comments written right before `NAME:` in the schema sources, or starting with `NAME:`. */
export function docComments(files: string[]): Map<string, string> {
  const docs = new Map<string, string>();
  for (const file of files) {
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/\/\*\*([\s\S]*?)\*\/\s*(?:export\s+)?(?:const\s+)?([A-Z][A-Z0-9_]+)?/g)) {
      const text = match[1]!.split('\n').map((line) => line.replace(/^\s*\*\s?/, '').trim()).filter(Boolean).join(' ');
      const named = /^([A-Z][A-Z0-9_]+): (.*)$/.exec(text);
      if (named) docs.set(named[1]!, named[2]!);
      else if (match[2] && !docs.has(match[2])) docs.set(match[2], text);
    }
  }
  return docs;
}

function render(value: unknown): string {
  if (value === undefined) return '';
  if (Array.isArray(value)) return value.every((v) => typeof v !== 'object') ? value.join(',') : '';
  if (typeof value === 'object') return '';
  return String(value);
}

/** The `.env.example` text of one service. */
export function envExample(service: ServiceEnv, docs: Map<string, string>): string {
  let resolved: Record<string, unknown> = {};
  try {
    resolved = service.load({}) as Record<string, unknown>;
  } catch {
    // A service that needs a variable set (none today) still gets its schema defaults.
  }
  const lines = [
    `# ${service.service}: every environment variable it reads. Generated from its config schema`,
    '# by `npm run env:example` (a test fails when this file is out of date); do not edit.',
    '# A commented-out line shows the default; uncomment it to change the value.',
    '',
  ];
  for (const variable of variablesOf(service.schema)) {
    const doc = docs.get(variable.name);
    if (doc) lines.push(...wrap(doc).map((l) => `# ${l}`));
    const value = render(variable.name in resolved ? resolved[variable.name] : variable.schemaDefault);
    // Required means: the service does not start without it (its loader supplies no default).
    const required = variable.required && value === '';
    const conditions = [variable.when ? `when ${variable.when}` : '', required ? 'required' : ''].filter(Boolean);
    if (conditions.length) lines.push(`# (${conditions.join(', ')})`);
    lines.push(required && !variable.when ? `${variable.name}=` : `# ${variable.name}=${value}`, '');
  }
  return lines.join('\n');
}

function wrap(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Source files whose doc comments describe variables: every service's config and the shared env schemas. */
export function schemaSources(): string[] {
  const services = readdirSync(join(WORKSPACE_ROOT, 'services')).flatMap((s) =>
    readdirSync(join(WORKSPACE_ROOT, 'services', s, 'src'))
      .filter((f) => f.endsWith('.config.ts'))
      .map((f) => join(WORKSPACE_ROOT, 'services', s, 'src', f)),
  );
  const libs = ['libs/config/src/common-env.ts', 'libs/config/src/api-token.ts', 'libs/grpc/src/security.ts'].map((f) => join(WORKSPACE_ROOT, f));
  return [...services, ...libs];
}
