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
          include: ['libs/**/*.spec.ts', 'services/**/*.spec.ts', 'platform/**/*.spec.ts', 'test/**/*.spec.ts'],
        },
      },
      {
        ...shared,
        test: {
          name: 'integration',
          globals: true,
          include: ['libs/**/*.integration-spec.ts', 'services/**/*.integration-spec.ts', 'test/**/*.integration-spec.ts'],
          globalSetup: ['test/infra/global-setup.ts'],
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
