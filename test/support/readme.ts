import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const README = resolve(__dirname, '../../README.md');

/** The fenced ```bash blocks of one README section (`## <heading>` up to the next `## `). */
export function readmeBlocks(heading: string): string[] {
  const text = readFileSync(README, 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no section "## ${heading}"`);
  const end = text.indexOf('\n## ', start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
}
