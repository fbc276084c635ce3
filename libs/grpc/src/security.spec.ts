import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindServer } from './proto';
import { securedServerOptions, serverCredentials } from './security';

const TOKEN = 'a-token-of-sixteen-plus-chars';

// A one-method service with JSON messages, so the test needs no .proto file.
const json = { serialize: (v: unknown) => Buffer.from(JSON.stringify(v)), deserialize: (b: Buffer) => JSON.parse(b.toString()) };
const method = (path: string) => ({ path, requestStream: false, responseStream: false, requestSerialize: json.serialize, requestDeserialize: json.deserialize, responseSerialize: json.serialize, responseDeserialize: json.deserialize });
const definition = { echo: method('/test.Echo/Echo'), probe: method('/test.Echo/Probe') };
const EchoClient = grpc.makeGenericClientConstructor(definition, 'Echo');

async function serve(env: Parameters<typeof serverCredentials>[0]): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server(securedServerOptions(env, ['/test.Echo/Probe']));
  const answer: grpc.handleUnaryCall<unknown, unknown> = (call, done) => done(null, { echoed: call.request });
  server.addService(definition, { echo: answer, probe: answer });
  const port = await bindServer(server, '127.0.0.1', 0, serverCredentials(env));
  return { server, port };
}

function callEcho(client: grpc.Client, name: 'echo' | 'probe', metadata = new grpc.Metadata()): Promise<unknown> {
  return new Promise((done, fail) =>
    (client as unknown as Record<string, (r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null, v: unknown) => void) => void>)[name](
      { n: 1 },
      metadata,
      (error, value) => (error ? fail(error) : done(value)),
    ),
  );
}

const bearer = (token: string) => {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
};

describe('gRPC bearer token', () => {
  let server: grpc.Server;
  let client: grpc.Client;
  beforeAll(async () => {
    const started = await serve({ API_TOKEN: TOKEN });
    server = started.server;
    client = new EchoClient(`127.0.0.1:${started.port}`, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  it('answers a call that carries the token', async () => {
    await expect(callEcho(client, 'echo', bearer(TOKEN))).resolves.toEqual({ echoed: { n: 1 } });
  });

  it('rejects a call without the token with UNAUTHENTICATED, before the handler', async () => {
    await expect(callEcho(client, 'echo')).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('missing authorization') });
    await expect(callEcho(client, 'echo', bearer('wrong-token-wrong-token'))).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'invalid bearer token' });
  });

  it('leaves the configured open methods (probes) open', async () => {
    await expect(callEcho(client, 'probe')).resolves.toEqual({ echoed: { n: 1 } });
  });
});

describe('gRPC TLS', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'grpc-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('serves over TLS with the configured certificate, and a plaintext client cannot call', async () => {
    const { server, port } = await serve({ GRPC_TLS_CERT_FILE: join(dir, 'cert.pem'), GRPC_TLS_KEY_FILE: join(dir, 'key.pem') });
    const tls = new EchoClient(`localhost:${port}`, grpc.credentials.createSsl(readFileSync(join(dir, 'cert.pem'))));
    const plain = new EchoClient(`localhost:${port}`, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': 50 });
    try {
      await expect(callEcho(tls, 'echo')).resolves.toEqual({ echoed: { n: 1 } });
      await expect(new Promise((done, fail) => plain.waitForReady(Date.now() + 1_000, (e) => (e ? fail(e) : done(true))))).rejects.toThrow();
    } finally {
      tls.close();
      plain.close();
      server.forceShutdown();
    }
  });

  it('names the missing half of a certificate pair and an unreadable file', () => {
    expect(() => serverCredentials({ GRPC_TLS_CERT_FILE: join(dir, 'cert.pem') })).toThrow(/both GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE/);
    expect(() => serverCredentials({ GRPC_TLS_CLIENT_CA_FILE: join(dir, 'cert.pem') })).toThrow(/GRPC_TLS_CLIENT_CA_FILE needs/);
    expect(() => serverCredentials({ GRPC_TLS_CERT_FILE: join(dir, 'nope.pem'), GRPC_TLS_KEY_FILE: join(dir, 'key.pem') })).toThrow(/GRPC_TLS_CERT_FILE: cannot read .*nope\.pem/);
  });
});
