import type { PlatformClient } from './client';

/** Where a command writes: the process's streams in `mlops`, buffers in tests. */
export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** stderr is a terminal: progress bars instead of plain progress lines. */
  isTTY: boolean;
  env: Record<string, string | undefined>;
  /** The directory relative paths are read from. */
  cwd: string;
}

export interface Context {
  client: PlatformClient;
  io: Io;
  /** `--json`: one JSON document on stdout per command (a JSON line per update with --watch). */
  json: boolean;
  /** A line for people (not printed with --json). */
  say(line: string): void;
  /** The command's result: JSON with --json, else the given lines. */
  result(value: unknown, lines?: string[]): void;
  /** Progress and notes on stderr (kept out of stdout, so scripts can parse it). */
  note(line: string): void;
}

export function contextOf(client: PlatformClient, io: Io, json: boolean): Context {
  return {
    client,
    io,
    json,
    say: (line) => {
      if (!json) io.stdout.write(`${line}\n`);
    },
    result: (value, lines = []) => {
      if (json) io.stdout.write(`${JSON.stringify(value)}\n`);
      else for (const line of lines) io.stdout.write(`${line}\n`);
    },
    note: (line) => io.stderr.write(`${line}\n`),
  };
}
