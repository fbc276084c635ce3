// Architecture rules checked against the Nx project graph (see
// test/architecture.spec.ts). Pure: takes the graph, returns the violations.
//
//  - every project under services/ is an app: tagged type:app and scope:<name>
//    (not scope:shared); every project under libs/ is tagged type:lib;
//  - no app depends on another app;
//  - libs depend only on libs;
//  - apps depend only on scope:shared libs.
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
  rule: 'service-must-be-app' | 'lib-must-be-lib' | 'app-depends-on-app' | 'lib-depends-on-non-lib' | 'app-depends-on-non-shared';
  project: string;
  target?: string;
  message: string;
}

const tagsOf = (p: GraphProject): string[] => p.data.tags ?? [];
const isApp = (p: GraphProject): boolean => tagsOf(p).includes('type:app');
const isLib = (p: GraphProject): boolean => tagsOf(p).includes('type:lib');
const isShared = (p: GraphProject): boolean => tagsOf(p).includes('scope:shared');
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
  }

  return violations;
}
