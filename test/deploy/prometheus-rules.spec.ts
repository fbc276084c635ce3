import { spawnSync } from 'node:child_process';
import { globSync, readFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { findBinary } from '../support/binary';
import { readmeBlocks } from '../support/readme';

const ROOT = resolve(__dirname, '../..');
const RULES = 'deploy/prometheus/alerts.rules.yml';

/** promtool: $PROMTOOL, else on PATH, else Debian's /usr/bin/promtool (`bash .ci/run` installs it). */
function promtool(): string {
  const found = findBinary('promtool', process.env.PROMTOOL, ['/usr/bin/promtool']);
  if (!found) throw new Error('promtool not found (looked at $PROMTOOL, PATH, /usr/bin/promtool): `bash deploy/local/promtool.sh` installs it');
  return found;
}

function run(...args: string[]) {
  const result = spawnSync(promtool(), args, { cwd: join(ROOT, 'deploy/prometheus'), encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface RuleFile {
  groups: { name: string; rules: { alert: string; expr: string }[] }[];
}

/** Every metric name the code registers with prom-client (`name: 'mlops_...'`). */
function exportedMetrics(): Set<string> {
  const files = globSync('{libs,services}/*/src/**/*.ts', { cwd: ROOT }).filter((file) => !file.includes('.spec.') && !file.includes('.integration-spec.'));
  const names = files.flatMap((file) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(/name: '(mlops_[a-z_]+)'/g)].map((m) => m[1]));
  return new Set(names);
}

describe('deploy/prometheus alerting rules', () => {
  it('are valid rules (promtool check rules)', () => {
    const checked = run('check', 'rules', 'alerts.rules.yml');
    expect(checked.status, checked.output).toBe(0);
    expect(checked.output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fire on the series they are written for and stay quiet otherwise (promtool test rules)', () => {
    const tested = run('test', 'rules', 'alerts.rules.test.yml');
    expect(tested.status, tested.output).toBe(0);
    expect(tested.output).toContain('SUCCESS');
  });

  it("the README's promtool commands run as written", () => {
    const block = readmeBlocks('Running distributed').find((text) => text.includes('promtool test rules'));
    expect(block, 'the README shows the promtool commands').toBeDefined();
    const dir = promtool().replace(/\/promtool$/, '');
    const result = spawnSync('bash', ['-euo', 'pipefail', '-c', block!], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, PATH: `${dir}${delimiter}${process.env.PATH}` } });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/SUCCESS: \d+ rules found[\s\S]*SUCCESS/);
  });

  it('use only series the services export, and every alert has a unit test', () => {
    const rules = parse(readFileSync(join(ROOT, RULES), 'utf8')) as RuleFile;
    const exported = exportedMetrics();
    const used = rules.groups.flatMap((g) => g.rules.flatMap((r) => [...r.expr.matchAll(/\b(mlops_[a-z_]+)/g)].map((m) => m[1])));
    // A histogram's series are its name plus _bucket, _sum or _count.
    const unknown = used.filter((name) => !exported.has(name) && !exported.has(name.replace(/_(bucket|sum|count)$/, '')));
    expect(used.length).toBeGreaterThan(0);
    expect(unknown, `not registered by any service: ${unknown.join(', ')}`).toEqual([]);

    const tests = readFileSync(join(ROOT, 'deploy/prometheus/alerts.rules.test.yml'), 'utf8');
    const untested = rules.groups.flatMap((g) => g.rules.map((r) => r.alert)).filter((alert) => !tests.includes(`alertname: ${alert}\n`));
    expect(untested).toEqual([]);
  });

  it('are loaded by the Prometheus of docker compose', () => {
    const config = parse(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as { rule_files?: string[] };
    expect(config.rule_files).toContain('/etc/prometheus/alerts.rules.yml');
    expect(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')).toContain('./deploy/prometheus/alerts.rules.yml:/etc/prometheus/alerts.rules.yml:ro');
  });
});
