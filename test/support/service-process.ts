import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { waitFor } from './wait-for';

const ROOT = resolve(__dirname, '../..');

/** Ports this process's freePort gave out. */
const handedOut = new Set<number>();

export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((done, fail) => {
      const server = createServer();
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => done(port));
      });
    });
    // The kernel may hand a closed port out again at once: two servers of one test asking in a
    // row (HTTP, then gRPC) would get the same one, and the second fails with EADDRINUSE.
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** A service started the way production starts it: its built entry point, its own process. */
export class ServiceProcess {
  /** Every process started in this test file, for the output printed when a test fails. */
  static readonly started = new Set<ServiceProcess>();
  private child?: ChildProcess;
  readonly output: string[] = [];

  constructor(
    readonly service: string,
    readonly env: Record<string, string>,
  ) {}

  get entry(): string {
    return resolve(ROOT, `dist/services/${this.service}/src/main.js`);
  }

  start(): void {
    if (!existsSync(this.entry)) throw new Error(`${this.entry} is missing: run \`npm run build\` first`);
    this.child = spawn(process.execPath, [this.entry], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => this.output.push(chunk.toString());
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    ServiceProcess.started.add(this);
  }

  /** The last `lines` lines this process printed. */
  tail(lines: number): string {
    return this.output.join('').split('\n').slice(-lines).join('\n');
  }

  /**
   * Started and not exited. A process ended by a signal (SIGTERM before its handler is
   * installed, SIGKILL) has a signalCode and no exitCode.
   */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode == null && this.child.signalCode == null;
  }

  /** Polls `url` until it answers 2xx; fails at once if the process exits first. */
  async waitUntilReady(url: string, timeoutMs = 60_000): Promise<void> {
    const child = this.child;
    if (!child) throw new Error(`${this.service} is not started`);
    const exitedEarly = () => new Error(`${this.service} exited (${child.signalCode ?? child.exitCode}) before ${url} answered: ${this.output.join('')}`);
    if (!this.running) throw exitedEarly();
    let onExit: () => void = () => undefined;
    const exited = new Promise<never>((_, fail) => {
      onExit = () => fail(exitedEarly());
      child.once('exit', onExit);
    });
    try {
      await Promise.race([waitFor(async () => (await fetch(url)).ok, `${this.service} at ${url}`, timeoutMs), exited]);
    } finally {
      child.off('exit', onExit);
    }
  }

  /**
   * Sends `signal` to the running process, e.g. SIGSTOP then SIGCONT: a process frozen as by a
   * long GC pause or a starved container, missing its heartbeats while it is stopped.
   */
  signal(signal: NodeJS.Signals): void {
    const child = this.child;
    if (!child || !this.running) throw new Error(`${this.service} is not running`);
    child.kill(signal);
  }

  /** SIGKILL: no shutdown hooks, no flush; what a crash or OOM kill looks like. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * SIGTERM, then SIGKILL if the process has not exited within `graceMs`. Resolves with how it
   * ended, so a drain test can tell a clean exit from one this method had to force; `undefined`
   * when the process was not running.
   */
  async stop(graceMs = 15_000): Promise<ProcessExit | undefined> {
    const child = this.child;
    if (!child || !this.running) return undefined;
    const t0 = Date.now();
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    const killed = this.running;
    if (killed) await this.kill();
    return { code: child.exitCode, signal: child.signalCode, killedAfterGrace: killed, ms: Date.now() - t0 };
  }
}

/** How a process ended after stop(): `killedAfterGrace` when SIGTERM was not enough. */
export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  killedAfterGrace: boolean;
  /** From SIGTERM to exit. */
  ms: number;
}
