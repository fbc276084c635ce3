#!/usr/bin/env node
// Bundles the web console (platform/console) into dist/console/{index.html,app.js,app.css}:
// preact and uPlot from node_modules, nothing fetched at run time. The front door serves
// index.html at `/` (for browsers) and the rest under `/console/`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/console');
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: { app: join(root, 'platform/console/src/main.tsx') },
  bundle: true,
  outdir,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
});
copyFileSync(join(root, 'platform/console/index.html'), join(outdir, 'index.html'));
console.log(`web console built: ${outdir}/{index.html,app.js,app.css}`);
