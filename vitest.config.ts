import { globSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// swc (not esbuild) compiles the tests so NestJS gets decorator metadata.
const alias = {
  ...Object.fromEntries(
    ['bus', 'config', 'contracts', 'drift', 'errors', 'grpc', 'http', 'metrics', 'persistence', 'runtime', 'telemetry'].map((lib) => [
      `@mlops/${lib}`,
      resolve(__dirname, `libs/${lib}/src/index.ts`),
    ]),
  ),
  ...Object.fromEntries(
    ['ingestion', 'feature-store', 'trainer', 'registry', 'serving', 'monitoring', 'tracking', 'loop'].map((service) => [
      `@mlops/service-${service}`,
      resolve(__dirname, `services/${service}/src/index.ts`),
    ]),
  ),
};

const SPECS = ['libs/**/*.spec.ts', 'services/**/*.spec.ts', 'platform/**/*.spec.ts', 'test/**/*.spec.ts'];

// Specs that compare against real Python packages (they import test/support/python) run in
// their own tier, whose globalSetup provisions the venv once: the unit tier never needs pip.
const pythonSpecs = SPECS.flatMap((pattern) => globSync(pattern, { cwd: __dirname, exclude: (p) => p.includes('node_modules') })).filter((file) =>
  /from '[./]*\/(test\/)?support\/python'/.test(readFileSync(resolve(__dirname, file), 'utf8')),
);

const shared = {
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
};

export default defineConfig({
  test: {
    projects: [
      {
        ...shared,
        test: {
          name: 'unit',
          globals: true,
          include: SPECS,
          exclude: ['**/node_modules/**', ...pythonSpecs],
        },
      },
      {
        ...shared,
        test: {
          name: 'python',
          globals: true,
          include: pythonSpecs,
          globalSetup: ['test/infra/python-setup.ts'],
        },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          globals: true,
          include: ['libs/**/*.integration-spec.ts', 'services/**/*.integration-spec.ts', 'test/**/*.integration-spec.ts'],
          globalSetup: ['test/infra/global-setup.ts', 'test/infra/python-setup.ts'],
          setupFiles: ['test/support/print-services-on-failure.ts'],
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
