import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { persistenceContract } from './persistence.contract';

const dirs: string[] = [];

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

persistenceContract('sqlite file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlops-persistence-'));
  dirs.push(dir);
  // A directory that does not exist yet: openDataSource creates it.
  return `sqlite:${join(dir, 'nested', 'x.db')}`;
});

persistenceContract('sqlite in memory', () => 'sqlite::memory:', { survivesReopen: false });
