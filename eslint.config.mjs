// ESLint 9 flat config. Enforces the architecture rules:
//  - module boundaries (Nx tags): libs depend only on libs; a service (type:app)
//    depends only on scope:shared libs, never on another service; no relative
//    imports that climb out of a project (use the @mlops/* aliases);
//  - no floating promises (needs type information);
//  - unused vars as a warning.
// Kept deliberately small: no recommended presets.
import nxPlugin from '@nx/eslint-plugin';
import { createProjectGraphAsync } from '@nx/devkit';
import tseslint from 'typescript-eslint';

// @nx/enforce-module-boundaries only *reads* the cached project graph
// (.nx/workspace-data). With the plain `eslint` CLI on a fresh clone there is
// no cache and the rule would silently skip itself ("No cached ProjectGraph is
// available"); with a stale cache new projects would be unknown. So compute
// (incrementally) the graph before linting. Offline and daemon-less by default.
process.env.NX_DAEMON ??= 'false';
process.env.NX_NO_CLOUD ??= 'true';
await createProjectGraphAsync({ exitOnError: true });

const boundaryOptions = {
  allow: [],
  enforceBuildableLibDependency: false,
  banTransitiveDependencies: false,
  depConstraints: [
    // libraries may depend only on libraries
    { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
    // library layers: core (contracts, errors, config, drift) depends on no workspace lib;
    // infra (bus, persistence, telemetry, metrics) on core and infra; edge (http, grpc,
    // runtime) on any lib. test/architecture.ts checks the same on the whole Nx graph.
    { sourceTag: 'layer:core', notDependOnLibsWithTags: ['type:lib'] },
    { sourceTag: 'layer:infra', onlyDependOnLibsWithTags: ['layer:core', 'layer:infra'] },
    // services may depend only on shared libraries, never on another service
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: ['scope:shared'],
      notDependOnLibsWithTags: ['type:app'],
    },
  ],
};

// Test-only sources (never part of the build, see tsconfig.build.json) may
// reach the workspace-level test helpers in test/support and test/infra by a
// relative path. Production code may not.
const testFiles = [
  '**/*.spec.ts',
  '**/*.integration-spec.ts',
  '**/*.e2e-spec.ts',
  '**/*.contract.ts',
];
const testHelperImports = ['^(\\.\\./)+test/(support|infra)/'];

// A service's domain code knows neither HTTP nor the ORM: it throws @mlops/errors and
// reaches its tables through repositories. These are the files allowed to: the edges
// (HTTP/gRPC), the stores (repositories, entities, migrations) and the wiring.
const serviceEdgeFiles = ['services/*/src/**/http/**', 'services/*/src/**/grpc/**'];
const serviceStoreFiles = ['services/*/src/**/store/**', 'services/*/src/**/*.repository.ts', 'services/*/src/**/*.entity.ts', 'services/*/src/**/migrations/**'];
const serviceWiringFiles = ['services/*/src/*.app.ts', 'services/*/src/*.module.ts', 'services/*/src/main.ts', 'services/*/src/*.workers.ts', 'services/*/src/*.cluster.ts'];
const banned = (name, message) => ({ name, message });
const noHttp = banned('@mlops/http', 'domain code throws @mlops/errors; only http/ controllers and the wiring use @mlops/http');
const noOrm = banned('typeorm', 'domain code reaches tables through a repository (store/, *.repository.ts)');
const kafkajsBanned =
  'kafkajs only in libs/bus: use @mlops/bus (EventBus, or the Kafka ops kit: KafkaAdminKit, startGroupsAtEnd, KafkaRawProducer, observeKafka)';

const noKafkajs = { name: 'kafkajs', message: kafkajsBanned };

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**'] },
  {
    files: ['libs/**/*.ts', 'services/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: {
      '@nx': nxPlugin,
      '@typescript-eslint': tseslint.plugin,
    },
    // existing code carries disable directives for rules not enabled here
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaryOptions],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'warn',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  // The composition root (npm start) is the one place that imports services, so it gets
  // the code rules but not the boundary rule; so do the workspace-level tests, which start
  // services as processes and reach them over the wire, and the web console (platform/console,
  // .tsx typed by its own tsconfig.json, which the project service finds).
  {
    files: ['platform/**/*.ts', 'platform/**/*.tsx', 'test/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'warn',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  // kafkajs stays behind the bus port: only libs/bus imports it (its adapter and the Kafka ops
  // kit tests, test support and benchmarks use), so the Kafka client can be swapped there alone.
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mjs', '**/*.cjs', '**/*.js'],
    ignores: ['libs/bus/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'kafkajs', message: kafkajsBanned }], patterns: [{ group: ['kafkajs/*'], message: kafkajsBanned }] }],
      'no-restricted-syntax': [
        'error',
        { selector: "CallExpression[callee.name='require'][arguments.0.value=/^kafkajs/]", message: kafkajsBanned },
        { selector: "ImportExpression[source.value=/^kafkajs/]", message: kafkajsBanned },
      ],
    },
  },
  // (A later block's no-restricted-imports replaces an earlier one's, so these repeat the kafkajs ban.)
  {
    files: ['services/*/src/**/*.ts'],
    ignores: [...serviceEdgeFiles, ...serviceStoreFiles, ...serviceWiringFiles, ...testFiles.map((glob) => `services/${glob}`), 'services/*/src/**/test/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [noHttp, noOrm, noKafkajs] }] },
  },
  {
    files: serviceEdgeFiles,
    rules: { 'no-restricted-imports': ['error', { paths: [noOrm, noKafkajs] }] },
  },
  {
    files: serviceStoreFiles,
    rules: { 'no-restricted-imports': ['error', { paths: [noHttp, noKafkajs] }] },
  },
  {
    files: testFiles.flatMap((glob) => [`libs/${glob}`, `services/${glob}`]),
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { ...boundaryOptions, allow: [...boundaryOptions.allow, ...testHelperImports] },
      ],
    },
  },
);
