import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onceEachContract } from './monitoring.store.contract';

const dir = mkdtempSync(join(tmpdir(), 'monitoring-store-'));
onceEachContract('sqlite (file)', () => `sqlite:${join(dir, 'store.db')}`, { concurrentInstances: false });
