import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import { apiTokenEnvSchema, sameSecret } from '@mlops/config';

/**
 * gRPC transport security from the environment: TLS when a certificate and key are given
 * (and client certificates required when a client CA is given), a bearer token when
 * API_TOKEN is set. Without them the server is plaintext and open, for loopback use.
 */
export const grpcSecurityEnvSchema = apiTokenEnvSchema.extend({
  GRPC_TLS_CERT_FILE: z.string().min(1).optional(),
  GRPC_TLS_KEY_FILE: z.string().min(1).optional(),
  GRPC_TLS_CLIENT_CA_FILE: z.string().min(1).optional(),
});

export type GrpcSecurityEnv = z.output<typeof grpcSecurityEnvSchema>;

export function serverCredentials(env: GrpcSecurityEnv): grpc.ServerCredentials {
  const { GRPC_TLS_CERT_FILE: certFile, GRPC_TLS_KEY_FILE: keyFile, GRPC_TLS_CLIENT_CA_FILE: caFile } = env;
  if (!certFile && !keyFile) {
    if (caFile) throw new Error('GRPC_TLS_CLIENT_CA_FILE needs GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE');
    return grpc.ServerCredentials.createInsecure();
  }
  if (!certFile || !keyFile) throw new Error('TLS needs both GRPC_TLS_CERT_FILE and GRPC_TLS_KEY_FILE');
  const read = (file: string, variable: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${variable}: cannot read ${file} (${(error as Error).message})`);
    }
  };
  const ca = caFile ? read(caFile, 'GRPC_TLS_CLIENT_CA_FILE') : null;
  return grpc.ServerCredentials.createSsl(
    ca,
    [{ cert_chain: read(certFile, 'GRPC_TLS_CERT_FILE'), private_key: read(keyFile, 'GRPC_TLS_KEY_FILE') }],
    ca !== null,
  );
}

/**
 * Rejects calls without `authorization: Bearer <token>` metadata with UNAUTHENTICATED before
 * any handler runs. `openMethods` (full paths such as `/grpc.health.v1.Health/Check`) stay
 * open for probes.
 */
export function bearerTokenInterceptor(token: string, openMethods: readonly string[] = []): grpc.ServerInterceptor {
  const expected = `Bearer ${token}`;
  return (method, call) => {
    if (openMethods.includes(method.path)) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, forward) => {
            const given = metadata.get('authorization')[0];
            if (typeof given === 'string' && sameSecret(given, expected)) return forward(metadata);
            call.sendStatus({
              code: grpc.status.UNAUTHENTICATED,
              details: given === undefined ? 'missing authorization metadata (expected "Bearer <token>")' : 'invalid bearer token',
            });
          },
        }),
    });
  };
}

/** Server options for the security env: the bearer-token interceptor when a token is set. */
export function securedServerOptions(env: GrpcSecurityEnv, openMethods: readonly string[] = []): grpc.ServerOptions {
  return env.API_TOKEN ? { interceptors: [bearerTokenInterceptor(env.API_TOKEN, openMethods)] } : {};
}
