// Architecture rules checked against the Nx project graph (see
// test/architecture.spec.ts). Pure: takes the graph, returns the violations.
//
//  - every project under services/ is an app: tagged type:app and scope:<name>
//    (not scope:shared); every project under libs/ is tagged type:lib;
//  - no app depends on another app;
//  - libs depend only on libs;
//  - apps depend only on scope:shared libs;
//  - every lib has one layer tag, and depends only on its own layer or those below it:
//    layer:core (contracts, errors, config, drift) on no workspace lib, layer:infra
//    (bus, persistence, telemetry, metrics) on core and infra, layer:edge (http, grpc,
//    runtime: the Nest, HTTP and gRPC wrappers) on any lib.
// The same rules are enforced per import by @nx/enforce-module-boundaries in
// eslint.config.mjs; this check works on the whole graph Nx computes.

export interface GraphProject {
  /** Nx node type: 'app' | 'lib' | 'e2e' */
  type?: string;
  data: { root: string; tags?: string[] };
}

export interface GraphEdge {
  source: string;
  target: string;
  type?: string;
}

/** Shape of the `graph` member of `nx graph --file=graph.json`. */
export interface ProjectGraphJson {
  nodes: Record<string, GraphProject>;
  dependencies: Record<string, GraphEdge[]>;
}

export interface Violation {
  rule:
    | 'service-must-be-app'
    | 'lib-must-be-lib'
    | 'app-depends-on-app'
    | 'lib-depends-on-non-lib'
    | 'app-depends-on-non-shared'
    | 'lib-needs-one-layer'
    | 'lib-depends-on-higher-layer';
  project: string;
  target?: string;
  message: string;
}

const tagsOf = (p: GraphProject): string[] => p.data.tags ?? [];
const isApp = (p: GraphProject): boolean => tagsOf(p).includes('type:app');
const isLib = (p: GraphProject): boolean => tagsOf(p).includes('type:lib');
const isShared = (p: GraphProject): boolean => tagsOf(p).includes('scope:shared');
/** Library layers, lowest first; a lib may depend on libs of its own layer or a lower one, except core on none. */
export const LAYERS = ['core', 'infra', 'edge'] as const;
const layersOf = (p: GraphProject): string[] => tagsOf(p).filter((t) => t.startsWith('layer:')).map((t) => t.slice('layer:'.length));
const rank = (layer: string): number => (LAYERS as readonly string[]).indexOf(layer);
const under = (p: GraphProject, dir: string): boolean => p.data.root === dir || p.data.root.startsWith(`${dir}/`);

/** Edges between workspace projects (external `npm:` nodes are ignored). */
export function internalEdges(graph: ProjectGraphJson): GraphEdge[] {
  return Object.values(graph.dependencies)
    .flat()
    .filter((e) => e.source in graph.nodes && e.target in graph.nodes && e.source !== e.target);
}

export function checkArchitecture(graph: ProjectGraphJson): Violation[] {
  const violations: Violation[] = [];

  for (const [name, project] of Object.entries(graph.nodes)) {
    if (under(project, 'services')) {
      const scopes = tagsOf(project).filter((t) => t.startsWith('scope:'));
      if (!isApp(project) || isLib(project) || scopes.length !== 1 || isShared(project)) {
        violations.push({
          rule: 'service-must-be-app',
          project: name,
          message: `${name} (${project.data.root}) must be tagged type:app and exactly one scope:<service> (not scope:shared); tags: [${tagsOf(project).join(', ')}]`,
        });
      }
    }
    if (under(project, 'libs') && (!isLib(project) || isApp(project))) {
      violations.push({
        rule: 'lib-must-be-lib',
        project: name,
        message: `${name} (${project.data.root}) must be tagged type:lib; tags: [${tagsOf(project).join(', ')}]`,
      });
    }
    if (isLib(project)) {
      const layers = layersOf(project);
      if (layers.length !== 1 || rank(layers[0]!) < 0) {
        violations.push({
          rule: 'lib-needs-one-layer',
          project: name,
          message: `${name} must have exactly one tag of ${LAYERS.map((l) => `layer:${l}`).join(', ')}; tags: [${tagsOf(project).join(', ')}]`,
        });
      }
    }
  }

  for (const edge of internalEdges(graph)) {
    const source = graph.nodes[edge.source];
    const target = graph.nodes[edge.target];
    if (isApp(source) && isApp(target)) {
      violations.push({
        rule: 'app-depends-on-app',
        project: edge.source,
        target: edge.target,
        message: `app ${edge.source} depends on app ${edge.target}`,
      });
    } else if (isApp(source) && !isShared(target)) {
      violations.push({
        rule: 'app-depends-on-non-shared',
        project: edge.source,
        target: edge.target,
        message: `app ${edge.source} depends on ${edge.target}, which is not tagged scope:shared`,
      });
    }
    if (isLib(source) && !isLib(target)) {
      violations.push({
        rule: 'lib-depends-on-non-lib',
        project: edge.source,
        target: edge.target,
        message: `lib ${edge.source} depends on ${edge.target}, which is not tagged type:lib`,
      });
    }
    if (isLib(source) && isLib(target)) {
      const [from, to] = [layersOf(source)[0] ?? '', layersOf(target)[0] ?? ''];
      if (rank(from) >= 0 && rank(to) >= 0 && (from === 'core' || rank(to) > rank(from))) {
        violations.push({
          rule: 'lib-depends-on-higher-layer',
          project: edge.source,
          target: edge.target,
          message: `lib ${edge.source} (layer:${from}) depends on ${edge.target} (layer:${to}); ${from === 'core' ? 'core libs depend on no workspace lib' : `layer:${from} may depend only on ${LAYERS.slice(0, rank(from) + 1).join(', ')}`}`,
        });
      }
    }
  }

  return violations;
}
