import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checkArchitecture, internalEdges, type GraphProject, type ProjectGraphJson } from './architecture';

const WORKSPACE_ROOT = resolve(__dirname, '..');

/** `nx graph --file=<tmp>/graph.json`, offline, without the daemon or Nx Cloud. */
function readNxGraph(): ProjectGraphJson {
  const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
  try {
    const file = join(dir, 'graph.json');
    execFileSync(process.execPath, [join(WORKSPACE_ROOT, 'node_modules/nx/bin/nx.js'), 'graph', `--file=${file}`], {
      cwd: WORKSPACE_ROOT,
      env: {
        ...process.env,
        NX_DAEMON: 'false',
        NX_NO_CLOUD: 'true',
        NX_TUI: 'false',
        NX_ISOLATE_PLUGINS: 'false',
        NX_SKIP_VERSION_CHECK: 'true',
        NX_VERBOSE_LOGGING: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    return (JSON.parse(readFileSync(file, 'utf8')) as { graph: ProjectGraphJson }).graph;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('architecture (Nx project graph)', () => {
  let graph: ProjectGraphJson;

  beforeAll(() => {
    graph = readNxGraph();
  }, 60_000);

  it('finds the workspace projects and their source-level dependencies', () => {
    const roots = Object.values(graph.nodes).map((p) => p.data.root);
    expect(roots.some((r) => r.startsWith('services/'))).toBe(true);
    expect(roots.some((r) => r.startsWith('libs/'))).toBe(true);
    // Without pluginsConfig["@nx/js"].analyzeSourceFiles in nx.json, Nx infers
    // no import edges at all and every dependency check below passes vacuously.
    expect(internalEdges(graph).length, 'Nx found no dependencies between projects (source analysis off?)').toBeGreaterThan(0);
  });

  it('has no architecture violations', () => {
    expect(checkArchitecture(graph).map((v) => v.message)).toEqual([]);
  });
});

describe('checkArchitecture (fixtures)', () => {
  const lib = (root: string, tags = ['type:lib', 'scope:shared', root === 'libs/bus' ? 'layer:infra' : 'layer:core']): GraphProject => ({ type: 'lib', data: { root, tags } });
  const app = (root: string, tags: string[]): GraphProject => ({ type: 'app', data: { root, tags } });

  const base = (): ProjectGraphJson => ({
    nodes: {
      contracts: lib('libs/contracts'),
      bus: lib('libs/bus'),
      ingestion: app('services/ingestion', ['type:app', 'scope:ingestion']),
      registry: app('services/registry', ['type:app', 'scope:registry']),
    },
    dependencies: {
      contracts: [{ source: 'contracts', target: 'npm:zod', type: 'static' }],
      bus: [{ source: 'bus', target: 'contracts', type: 'static' }],
      ingestion: [
        { source: 'ingestion', target: 'bus', type: 'static' },
        { source: 'ingestion', target: 'contracts', type: 'static' },
      ],
      registry: [{ source: 'registry', target: 'contracts', type: 'static' }],
    },
  });

  it('accepts a conforming graph', () => {
    expect(checkArchitecture(base())).toEqual([]);
  });

  it('reports an app -> app edge', () => {
    const graph = base();
    graph.dependencies.registry.push({ source: 'registry', target: 'ingestion', type: 'static' });
    expect(checkArchitecture(graph)).toEqual([
      expect.objectContaining({ rule: 'app-depends-on-app', project: 'registry', target: 'ingestion' }),
    ]);
  });

  it('reports a lib -> app edge', () => {
    const graph = base();
    graph.dependencies.bus.push({ source: 'bus', target: 'ingestion', type: 'static' });
    expect(checkArchitecture(graph)).toEqual([
      expect.objectContaining({ rule: 'lib-depends-on-non-lib', project: 'bus', target: 'ingestion' }),
    ]);
  });

  it('reports an app depending on a lib that is not scope:shared', () => {
    const graph = base();
    graph.nodes['ingestion-internal'] = lib('libs/ingestion-internal', ['type:lib', 'scope:ingestion', 'layer:core']);
    graph.dependencies.registry.push({ source: 'registry', target: 'ingestion-internal', type: 'static' });
    expect(checkArchitecture(graph)).toEqual([
      expect.objectContaining({ rule: 'app-depends-on-non-shared', project: 'registry', target: 'ingestion-internal' }),
    ]);
  });

  it('reports a project under services/ that is not tagged as an app', () => {
    const graph = base();
    graph.nodes.serving = lib('services/serving');
    graph.nodes.monitoring = app('services/monitoring', ['type:app']);
    expect(checkArchitecture(graph).map((v) => [v.rule, v.project])).toEqual([
      ['service-must-be-app', 'serving'],
      ['service-must-be-app', 'monitoring'],
    ]);
  });

  it('reports a project under libs/ that is not tagged type:lib', () => {
    const graph = base();
    graph.nodes.untagged = lib('libs/untagged', ['layer:core']);
    expect(checkArchitecture(graph)).toEqual([expect.objectContaining({ rule: 'lib-must-be-lib', project: 'untagged' })]);
  });

  it('reports a lib with no layer or two', () => {
    const graph = base();
    graph.nodes.unlayered = lib('libs/unlayered', ['type:lib', 'scope:shared']);
    graph.nodes.twice = lib('libs/twice', ['type:lib', 'scope:shared', 'layer:core', 'layer:edge']);
    expect(checkArchitecture(graph).map((v) => [v.rule, v.project])).toEqual([
      ['lib-needs-one-layer', 'unlayered'],
      ['lib-needs-one-layer', 'twice'],
    ]);
  });

  it('reports a core lib depending on any lib, and a lib depending on a higher layer', () => {
    const graph = base();
    graph.nodes.http = lib('libs/http', ['type:lib', 'scope:shared', 'layer:edge']);
    graph.nodes.errors = lib('libs/errors');
    graph.dependencies.contracts.push({ source: 'contracts', target: 'errors', type: 'static' });
    graph.dependencies.bus.push({ source: 'bus', target: 'http', type: 'static' });
    graph.dependencies.http = [{ source: 'http', target: 'bus', type: 'static' }];
    expect(checkArchitecture(graph).map((v) => [v.rule, v.project, v.target])).toEqual([
      ['lib-depends-on-higher-layer', 'contracts', 'errors'],
      ['lib-depends-on-higher-layer', 'bus', 'http'],
    ]);
  });
});
