import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** How every service reads proto/: field names as written, 64-bit integers as exact strings. */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/**
 * The workspace's proto/ directory holding `file`, found by walking up from `start`
 * (src/ in tests, dist/ when built). `override` names the variable that sets it instead.
 */
export function findProtoDir(file: string, override: string, start = __dirname): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', file))) return join(dir, 'proto');
    if (dirname(dir) === dir) throw new Error(`proto/${file} not found above ${start}; set ${override}`);
  }
}

/** Loads one .proto file from `protoDir` into grpc-js constructors. */
export function loadProto(protoDir: string, file: string): grpc.GrpcObject {
  return grpc.loadPackageDefinition(protoLoader.loadSync(resolve(protoDir, file), PROTO_LOADER_OPTIONS));
}

/** Binds on host:port (IPv6 hosts bracketed) with `credentials`; resolves with the bound port. */
export function bindServer(server: grpc.Server, host: string, port: number, credentials: grpc.ServerCredentials): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((done, fail) => server.bindAsync(address, credentials, (error, bound) => (error ? fail(error) : done(bound))));
}

/** Binds without TLS on host:port; resolves with the bound port. */
export function bindInsecure(server: grpc.Server, host: string, port: number): Promise<number> {
  return bindServer(server, host, port, grpc.ServerCredentials.createInsecure());
}
