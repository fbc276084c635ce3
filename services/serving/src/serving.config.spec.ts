import { ConfigError } from '@mlops/config';
import { deploymentGroup, loadServingConfig, replaysDeployments } from './serving.config';
import { servingSettings } from './serving.settings';

function problems(env: NodeJS.ProcessEnv) {
  try {
    loadServingConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('the configuration loaded');
}

describe('serving config', () => {
  it('starts with an empty environment: the documented defaults', () => {
    expect(loadServingConfig({})).toMatchObject({
      BUS: 'in-process',
      SERVING_GRPC_HOST: '127.0.0.1',
      SERVING_GRPC_PORT: 8001,
      SERVING_MODELS: [],
      SERVING_BATCH_DELAY_US: 500,
      SERVING_MAX_BATCH: 64,
      SERVING_INTRA_OP_THREADS: 1,
      SERVING_MAX_MESSAGE_BYTES: 4 * 1024 * 1024,
      SERVING_LOG_SAMPLE_RATE: 1,
      SERVING_WORKERS: 1,
    });
  });

  it('SERVING_INTRA_OP_THREADS: 0 (onnxruntime default) or a thread count, named when negative', () => {
    expect(loadServingConfig({ SERVING_INTRA_OP_THREADS: '0' }).SERVING_INTRA_OP_THREADS).toBe(0);
    expect(loadServingConfig({ SERVING_INTRA_OP_THREADS: '4' }).SERVING_INTRA_OP_THREADS).toBe(4);
    expect(problems({ SERVING_INTRA_OP_THREADS: '-1' }).message).toContain('SERVING_INTRA_OP_THREADS: expected a thread count >= 0');
  });

  it('SERVING_WORKERS: 1..64, named when out of range', () => {
    expect(loadServingConfig({ SERVING_WORKERS: '4' }).SERVING_WORKERS).toBe(4);
    expect(problems({ SERVING_WORKERS: '0' }).message).toContain('SERVING_WORKERS: expected at least 1 worker process');
    expect(problems({ SERVING_WORKERS: '65' }).message).toContain('SERVING_WORKERS: expected at most 64 worker processes');
  });

  it('deployment consumer group: the configured one alone, one per worker, a new one per restart that replays', () => {
    const single = loadServingConfig({ SERVING_GROUP: 'g' });
    const first = loadServingConfig({ SERVING_GROUP: 'g', SERVING_WORKER_INDEX: '1' });
    const restarted = loadServingConfig({ SERVING_GROUP: 'g', SERVING_WORKER_INDEX: '1', SERVING_WORKER_RESTARTS: '2' });
    expect([single, first, restarted].map(deploymentGroup)).toEqual(['g', 'g-worker-1', 'g-worker-1-restart-2']);
    expect([single, first, restarted].map(replaysDeployments)).toEqual([false, false, true]);
  });

  it('parses SERVING_MODELS: name=path (version 1) and name:version=path', () => {
    const config = loadServingConfig({ SERVING_MODELS: 'churn=/m/a.onnx, churn:2=/m/b.onnx,fraud.v2=rel/c.onnx' });
    expect(config.SERVING_MODELS).toEqual([
      { name: 'churn', version: 1, path: '/m/a.onnx' },
      { name: 'churn', version: 2, path: '/m/b.onnx' },
      { name: 'fraud.v2', version: 1, path: 'rel/c.onnx' },
    ]);
  });

  it('names each bad variable and says what was expected', () => {
    const error = problems({
      SERVING_MODELS: 'churn',
      SERVING_GRPC_PORT: '70000',
      SERVING_LOG_SAMPLE_RATE: '1.5',
      SERVING_MAX_BATCH: '0',
      SERVING_BATCH_DELAY_US: '-1',
      BUS: 'kafka',
    });
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'KAFKA_BROKERS',
      'SERVING_BATCH_DELAY_US',
      'SERVING_GRPC_PORT',
      'SERVING_LOG_SAMPLE_RATE',
      'SERVING_MAX_BATCH',
      'SERVING_MODELS',
    ]);
    expect(error.message).toContain("SERVING_MODELS: 'churn' is not name=path or name:version=path");
    expect(error.message).toContain('SERVING_LOG_SAMPLE_RATE: expected a share between 0 and 1');
  });

  it('rejects a model version listed twice', () => {
    expect(problems({ SERVING_MODELS: 'a=/x.onnx,a:1=/y.onnx' }).message).toContain("model 'a' version 1 is listed twice");
  });

  it('SERVING_HTTP_PORT (v2 REST, /metrics, /health) or its former name SERVING_METRICS_PORT; no HTTP server when neither is set', () => {
    expect(servingSettings(loadServingConfig({})).http).toBeUndefined();
    expect(servingSettings(loadServingConfig({ SERVING_HTTP_PORT: '8000' })).http).toEqual({ port: 8000, host: '127.0.0.1' });
    expect(servingSettings(loadServingConfig({ SERVING_METRICS_PORT: '9464', SERVING_METRICS_HOST: '0.0.0.0' })).http).toEqual({ port: 9464, host: '0.0.0.0' });
    expect(servingSettings(loadServingConfig({ SERVING_HTTP_PORT: '8000', SERVING_HTTP_HOST: '::', SERVING_METRICS_PORT: '9464' })).http).toEqual({ port: 8000, host: '::' });
    expect(problems({ SERVING_HTTP_PORT: '70000' }).message).toMatch(/SERVING_HTTP_PORT.*expected a port number/);
  });
});
