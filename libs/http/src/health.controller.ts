import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';

/** Injection token of the service's readiness check. */
export const READINESS_CHECK = Symbol('ReadinessCheck');

/**
 * Throws when a dependency the service needs is down (the probe then gets 503 with the
 * reason); otherwise returns details to show next to `status: 'ok'`.
 */
export type ReadinessCheck = () => Promise<Record<string, unknown>> | Record<string, unknown>;

/** `GET /health/live` (the process answers) and `GET /health/ready` (its dependencies do). */
@Controller('health')
export class HealthController {
  constructor(@Inject(READINESS_CHECK) private readonly check: ReadinessCheck) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready() {
    try {
      return { status: 'ok', ...(await this.check()) };
    } catch (error) {
      throw new ServiceUnavailableException(`not ready: ${(error as Error)?.message ?? String(error)}`);
    }
  }
}

/** The provider of a readiness check, for a module's `providers`. */
export const readinessCheck = (check: ReadinessCheck) => ({ provide: READINESS_CHECK, useValue: check });

/** Ready when the database answers a trivial query. */
export const databaseAnswers =
  (dataSource: { query(sql: string): Promise<unknown> }, details: () => Record<string, unknown> = () => ({})): ReadinessCheck =>
  async () => {
    await dataSource.query('SELECT 1');
    return details();
  };
