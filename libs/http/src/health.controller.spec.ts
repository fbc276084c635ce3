import 'reflect-metadata';
import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiErrorFilter } from './api-error.filter';
import { databaseAnswers, HealthController, readinessCheck, type ReadinessCheck } from './health.controller';

let app: INestApplication | undefined;

async function serve(check: ReadinessCheck): Promise<string> {
  @Module({ controllers: [HealthController], providers: [readinessCheck(check)] })
  class HealthModule {}
  app = await NestFactory.create(HealthModule, { logger: false });
  app.useGlobalFilters(new ApiErrorFilter('health-test'));
  await app.listen(0, '127.0.0.1');
  return (await app.getUrl()).replace('[::1]', '127.0.0.1');
}

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('HealthController', () => {
  it('is live and ready with the details of the readiness check', async () => {
    const queries: string[] = [];
    const url = await serve(databaseAnswers({ query: async (sql) => void queries.push(sql) }, () => ({ views: 3 })));
    expect(await get(`${url}/health/live`)).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await get(`${url}/health/ready`)).toEqual({ status: 200, body: { status: 'ok', views: 3 } });
    expect(queries).toEqual(['SELECT 1']);
  });

  it('answers 503 with the reason when a dependency is down, and stays live', async () => {
    const url = await serve(
      databaseAnswers({
        query: async () => {
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        },
      }),
    );
    const ready = await get(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(ready.body.message).toBe('not ready: connect ECONNREFUSED 127.0.0.1:5432');
    expect((await get(`${url}/health/live`)).status).toBe(200);
  });
});
