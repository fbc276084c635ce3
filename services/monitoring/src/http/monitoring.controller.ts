import { Body, Controller, Get, Inject, Param, Put } from '@nestjs/common';
import type { MonitoringMetrics } from '../metrics';
import type { MonitoringLoop } from '../loop/monitoring-loop';
import { InvalidRequest, type MonitoringService } from '../monitoring.service';
import { MONITORING_LOOP, MONITORING_METRICS, MONITORING_SERVICE } from './tokens';

function versionOf(raw: string): number {
  const version = Number(raw);
  if (!Number.isInteger(version) || version < 1) {
    throw new InvalidRequest([{ field: 'version', message: 'expected a positive integer' }]);
  }
  return version;
}

@Controller()
export class MonitoringController {
  constructor(
    @Inject(MONITORING_SERVICE) private readonly service: MonitoringService,
    @Inject(MONITORING_LOOP) private readonly loop: MonitoringLoop,
    @Inject(MONITORING_METRICS) private readonly metrics: MonitoringMetrics,
  ) {}

  @Put('models/:model/versions/:version/reference')
  setReference(@Param('model') model: string, @Param('version') version: string, @Body() body: unknown) {
    return this.loop.setReference(model, versionOf(version), body);
  }

  @Get('models/:model/versions/:version/reference')
  reference(@Param('model') model: string, @Param('version') version: string) {
    return this.service.reference(model, versionOf(version));
  }

  @Get('models/:model/drift')
  drift(@Param('model') model: string) {
    return this.service.drift(model);
  }

  @Get('models/:model/versions/:version/performance')
  performance(@Param('model') model: string, @Param('version') version: string) {
    return this.loop.performanceOf(model, versionOf(version));
  }

  /** Champion, canaries with their verdicts, and per version: reference status and performance. */
  @Get('models/:model/status')
  modelStatus(@Param('model') model: string) {
    return this.loop.modelStatus(model);
  }

  @Get('status')
  status() {
    return this.loop.status();
  }

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  ready() {
    return { status: 'ok' };
  }
}
