import * as grpc from '@grpc/grpc-js';
import { createGrpcMetrics, grpcCodeName, instrumentGrpcService } from './grpc-metrics';
import { createMetricsRegistry } from './registry';
import { parseExposition, valueOf } from './test/parse-exposition';

const bytes = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};

/** A raw-bytes service: Echo (unary) and Count (server streaming), no proto needed. */
const definition = {
  Echo: { path: '/test.Demo/Echo', requestStream: false, responseStream: false, ...bytes },
  Count: { path: '/test.Demo/Count', requestStream: false, responseStream: true, ...bytes },
} satisfies grpc.ServiceDefinition;

describe('instrumentGrpcService on a real grpc-js server', () => {
  const registry = createMetricsRegistry({ service: 'demo', defaultMetrics: false });
  let server: grpc.Server;
  let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(
      definition,
      instrumentGrpcService(createGrpcMetrics(registry), definition, {
        Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
          if (call.request.toString() === 'bad') callback({ code: grpc.status.INVALID_ARGUMENT, details: 'bad input' });
          else callback(null, call.request);
        },
        Count: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
          const n = Number(call.request.toString());
          if (n < 0) return call.emit('error', { code: grpc.status.OUT_OF_RANGE, details: 'negative' });
          for (let i = 0; i < n; i++) call.write(Buffer.from(String(i)));
          call.end();
        },
      }),
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const Client = grpc.makeGenericClientConstructor(definition, 'Demo');
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as typeof client;
  });

  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const echo = (text: string) =>
    new Promise<grpc.status>((resolve) =>
      client.Echo(Buffer.from(text), (error: grpc.ServiceError | null) => resolve(error ? error.code : grpc.status.OK)),
    );
  const count = (n: number) =>
    new Promise<{ items: number; code: grpc.status }>((resolve) => {
      let items = 0;
      const stream = client.Count(Buffer.from(String(n))) as grpc.ClientReadableStream<Buffer>;
      stream.on('data', () => items++);
      stream.on('error', (error: grpc.ServiceError) => resolve({ items, code: error.code }));
      stream.on('status', (status: grpc.StatusObject) => {
        if (status.code === grpc.status.OK) resolve({ items, code: status.code });
      });
    });

  it('counts and times unary calls by their final status code', async () => {
    expect(await echo('hi')).toBe(grpc.status.OK);
    expect(await echo('hi again')).toBe(grpc.status.OK);
    expect(await echo('bad')).toBe(grpc.status.INVALID_ARGUMENT);

    const metrics = parseExposition(await registry.metrics());
    const echoLabels = { grpc_service: 'test.Demo', grpc_method: 'Echo' };
    expect(valueOf(metrics, 'mlops_grpc_server_handled_total', { ...echoLabels, grpc_code: 'OK' })).toBe(2);
    expect(valueOf(metrics, 'mlops_grpc_server_handled_total', { ...echoLabels, grpc_code: 'INVALID_ARGUMENT' })).toBe(1);
    expect(valueOf(metrics, 'mlops_grpc_server_handling_seconds_count', { ...echoLabels, grpc_code: 'OK' })).toBe(2);
    expect(valueOf(metrics, 'mlops_grpc_server_handling_seconds_bucket', { ...echoLabels, grpc_code: 'OK', le: '+Inf' })).toBe(2);
  });

  it('counts server-streaming calls once, when the stream ends or fails', async () => {
    expect(await count(3)).toEqual({ items: 3, code: grpc.status.OK });
    expect(await count(-1)).toEqual({ items: 0, code: grpc.status.OUT_OF_RANGE });

    const metrics = parseExposition(await registry.metrics());
    const countLabels = { grpc_service: 'test.Demo', grpc_method: 'Count' };
    expect(valueOf(metrics, 'mlops_grpc_server_handled_total', { ...countLabels, grpc_code: 'OK' })).toBe(1);
    expect(valueOf(metrics, 'mlops_grpc_server_handled_total', { ...countLabels, grpc_code: 'OUT_OF_RANGE' })).toBe(1);
    expect(valueOf(metrics, 'mlops_grpc_server_handling_seconds_count', { ...countLabels, grpc_code: 'OK' })).toBe(1);
  });
});

describe('grpcCodeName', () => {
  it.each([
    [null, 'OK'],
    [{ code: grpc.status.NOT_FOUND }, 'NOT_FOUND'],
    [{ code: 99 }, 'UNKNOWN'],
    [new Error('no code'), 'UNKNOWN'],
  ])('names %j as %s', (error, name) => {
    expect(grpcCodeName(error)).toBe(name);
  });
});
