import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runEmbedded, type EmbeddedOptions, type EmbeddedSummary } from '../../platform/embedded/src/embedded';
import { walkthroughBlocks, walkthroughTests } from './walkthrough';

/**
 * README "Bring your own data" against the embedded platform: its `npm start -- --serve ...`
 * block is the platform this spec starts (with its flags; port 0 for 8080); the steps and their
 * checks are walkthrough.ts's, shared with the distributed spec.
 */

/** The platform's options from the README's `npm start -- --serve ...` line. */
function startOptions(line: string): Partial<EmbeddedOptions> {
  const match = /^npm start -- --serve((?: --[a-z-]+(?: [^-\s]\S*)?)*)\s*$/.exec(line.trim());
  if (!match) throw new Error(`the walkthrough's embedded start is not \`npm start -- --serve [--flag [value] ...]\`: ${line}`);
  const options: Partial<EmbeddedOptions> = {};
  for (const [, flag, value] of match[1]!.matchAll(/--([a-z-]+)(?: ([^-\s]\S*))?/g)) {
    if (flag === 'no-demo') options.demo = false;
    else if (flag === 'promote-after') options.promoteAfter = Number(value);
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

  it('starts the platform with `npm start -- --serve --no-demo`: empty, serving at once (no demo model, source or loop)', () => {
    expect(walkthroughBlocks().embeddedStart).toMatch(/^npm start -- --serve --no-demo/);
    expect(lines.join('\n')).toContain('no demo (--no-demo): no source, feature view or model of its own');
    expect(summary?.steps, lines.join('\n')).toEqual([]);
    expect(summary?.produced).toBe(0);
  });

  walkthroughTests({
    log: () => lines.join('\n'),
    serve: async (walk) => {
      dataDir = mkdtempSync(join(tmpdir(), 'mlops-walkthrough-'));
      summary = await runEmbedded({
        dataDir,
        port: 0,
        grpcPort: 0,
        // The demo's; the README's start line has --no-demo.
        records: 600,
        serve: false,
        print: (line) => lines.push(line),
        ...startOptions(walkthroughBlocks().embeddedStart),
        whileServing: ({ url }) => walk(url),
      });
    },
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
});
