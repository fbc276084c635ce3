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

const kafkajsBanned = 'kafkajs only in libs/bus: use @mlops/bus (EventBus, or the Kafka ops kit: KafkaAdminKit, startGroupsAtEnd, KafkaRawProducer, observeKafka)';

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
  // services as processes and reach them over the wire.
  {
    files: ['platform/**/*.ts', 'test/**/*.ts'],
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
    files: ['**/*.ts', '**/*.mjs', '**/*.cjs', '**/*.js'],
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
