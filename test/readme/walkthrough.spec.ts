import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEmbedded, type EmbeddedOptions, type EmbeddedSummary } from '../../platform/embedded/src/embedded';
import { walkthroughBlocks, walkthroughTests } from './walkthrough';

/**
 * README "Bring your own data" against the embedded platform: its `npm start -- --serve ...`
 * block is the platform this spec starts (with its flags; port 0 for 8080, and a smaller demo
 * stream than `npm start`'s 3,000 records, since the demo's own size does not matter to the
 * walkthrough); the steps and their checks are walkthrough.ts's, shared with the distributed spec.
 */

/** The platform's options from the README's `npm start -- --serve ...` line. */
function startOptions(line: string): Partial<EmbeddedOptions> {
  const match = /^npm start -- --serve((?: --[a-z-]+ \S+)*)\s*$/.exec(line.trim());
  if (!match) throw new Error(`the walkthrough's embedded start is not \`npm start -- --serve [--flag value ...]\`: ${line}`);
  const options: Partial<EmbeddedOptions> = {};
  for (const [, flag, value] of match[1]!.matchAll(/--([a-z-]+) (\S+)/g)) {
    if (flag === 'promote-after') options.promoteAfter = Number(value);
    else if (flag === 'window') options.windowSize = Number(value);
    else if (flag === 'label-share') options.labelShare = Number(value);
    else throw new Error(`walkthrough.spec.ts does not map --${flag} yet`);
  }
  return options;
}

describe('README "Bring your own data", run as written against the embedded platform', () => {
  let dataDir: string;
  let summary: EmbeddedSummary | undefined;
  const lines: string[] = [];

  it('starts the platform with `npm start -- --serve` (its demo loop completes beside the walkthrough)', () => {
    expect(walkthroughBlocks().embeddedStart).toMatch(/^npm start -- --serve/);
    expect(summary?.completed, lines.join('\n')).toBe(true);
  });

  walkthroughTests({
    log: () => lines.join('\n'),
    serve: async (walk) => {
      dataDir = mkdtempSync(join(tmpdir(), 'mlops-walkthrough-'));
      summary = await runEmbedded({
        dataDir,
        port: 0,
        grpcPort: 0,
        records: 600,
        epochs: 100,
        stepTimeoutMs: 30_000,
        serve: false,
        print: (line) => lines.push(line),
        ...startOptions(walkthroughBlocks().embeddedStart),
        whileServing: ({ url }) => walk(url),
      });
    },
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
});
