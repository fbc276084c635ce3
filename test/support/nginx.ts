import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FRONT_DOOR_SERVICES, type FrontDoorService } from '../../platform/embedded/src/front-door/routes';
import { findBinary } from './binary';
import { waitFor } from './wait-for';

const ROOT = resolve(__dirname, '../..');
export const FRONT_DOOR_TEMPLATE = 'deploy/nginx/front-door.conf.template';

/** The template's placeholder for a service's upstream: feature-store -> FEATURE_STORE_UPSTREAM. */
export const upstreamVariable = (service: FrontDoorService) => `${service.toUpperCase().replace(/-/g, '_')}_UPSTREAM`;

/**
 * The nginx binary: $NGINX, else `nginx` on PATH, else /usr/sbin/nginx (Debian installs it
 * there, which a non-root PATH often lacks). `bash .ci/run` installs nginx-light when missing.
 */
export function nginxBinary(): string {
  const found = findBinary('nginx', process.env.NGINX, ['/usr/sbin/nginx', '/usr/local/sbin/nginx']);
  if (!found) throw new Error('nginx not found (looked at $NGINX, PATH, /usr/sbin/nginx): `apt-get install -y nginx-light`, or run `bash .ci/run`, which installs it');
  return found;
}

/**
 * The front door's configuration as `deploy/nginx/render.sh` renders it (the script
 * `platform.sh` and the benchmarks use): every `${NAME}` filled from `values`; placeholders
 * without a value are an error naming them.
 */
export function renderFrontDoor(values: Record<string, string>): string {
  const run = spawnSync('bash', [join(ROOT, 'deploy/nginx/render.sh'), join(ROOT, FRONT_DOOR_TEMPLATE)], {
    env: { PATH: process.env.PATH, ...values },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(run.stderr.trim() || `render.sh exited ${run.status}`);
  return run.stdout;
}

/** The values for services on loopback: `listen` on 127.0.0.1:`port`, each upstream 127.0.0.1:<its port>. */
export function loopbackValues(port: number, ports: Record<FrontDoorService, number>): Record<string, string> {
  return {
    FRONT_DOOR_LISTEN: `127.0.0.1:${port}`,
    CONSOLE_ROOT: join(ROOT, 'dist/console'),
    ...Object.fromEntries(FRONT_DOOR_SERVICES.map((s) => [upstreamVariable(s), `127.0.0.1:${ports[s]}`])),
  };
}

/**
 * A directory nginx runs in as an unprivileged child (`-p <dir> -c <dir>/nginx.conf`): a main
 * configuration whose http {} includes the rendered front door, with pid, logs and temp paths
 * inside the directory.
 */
export function writeNginxPrefix(frontDoorConf: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'front-door-nginx-'));
  mkdirSync(join(dir, 'logs'));
  writeFileSync(join(dir, 'front-door.conf'), frontDoorConf);
  writeFileSync(
    join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/logs/error.log warn;`,
      'events { worker_connections 512; }',
      'http {',
      `  access_log ${dir}/logs/access.log;`,
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t}_temp;`),
      `  include ${dir}/front-door.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  return dir;
}

/** `nginx -t` on a prefix directory: the exit code and what nginx said. */
export function nginxTest(dir: string): { status: number | null; output: string } {
  const result = spawnSync(nginxBinary(), ['-t', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs/error.log')], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A real nginx in the foreground as a child process, serving the rendered front door. */
export class NginxProcess {
  private child?: ChildProcess;
  readonly output: string[] = [];

  constructor(
    readonly dir: string,
    readonly url: string,
  ) {}

  /** Renders the template for loopback upstreams, starts nginx on 127.0.0.1:`port` and waits for /healthz. */
  static start(port: number, ports: Record<FrontDoorService, number>): Promise<NginxProcess> {
    return NginxProcess.serve(renderFrontDoor(loopbackValues(port, ports)), port);
  }

  /** Starts nginx with `conf` (an http {} context that listens on 127.0.0.1:`port` and answers /healthz) and waits for /healthz. */
  static async serve(conf: string, port: number): Promise<NginxProcess> {
    const dir = writeNginxPrefix(conf);
    const nginx = new NginxProcess(dir, `http://127.0.0.1:${port}`);
    const child = spawn(nginxBinary(), ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs/error.log'), '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.child = child;
    child.stdout!.on('data', (chunk: Buffer) => nginx.output.push(chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => nginx.output.push(chunk.toString()));
    const exited = new Promise<never>((_, fail) => child.once('exit', (code) => fail(new Error(`nginx exited (${code}): ${nginx.log()}`))));
    await Promise.race([waitFor(async () => (await fetch(`${nginx.url}/healthz`).catch(() => undefined))?.ok, `nginx at ${nginx.url}/healthz`, 10_000), exited]);
    child.removeAllListeners('exit');
    return nginx;
  }

  /** nginx's stderr and error log. */
  log(): string {
    const file = join(this.dir, 'logs/error.log');
    return `${this.output.join('')}${existsSync(file) ? readFileSync(file, 'utf8') : ''}`;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode == null && child.signalCode == null) {
      const exited = new Promise((r) => child.once('exit', r));
      // QUIT: graceful shutdown of the master and its worker.
      child.kill('SIGQUIT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode == null && child.signalCode == null) child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
