import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { DriftHistory } from '../drift/drift-history';
import { DriftWatch } from '../drift/drift-watch';
import { invalidRequest } from '../invalid-request';
import { VersionPerformance } from '../performance/version-performance';
import { ReferenceResolver } from '../references/reference-resolver';
import { MonitoringStatus } from '../status/monitoring-status';

function versionOf(raw: string): number {
  const version = Number(raw);
  if (!Number.isInteger(version) || version < 1) {
    throw invalidRequest([{ field: 'version', message: 'expected a positive integer' }]);
  }
  return version;
}

@Controller()
export class MonitoringController {
  constructor(
    private readonly driftWatch: DriftWatch,
    private readonly driftHistory: DriftHistory,
    private readonly references: ReferenceResolver,
    private readonly performance: VersionPerformance,
    private readonly monitoring: MonitoringStatus,
  ) {}

  @Put('models/:model/versions/:version/reference')
  setReference(@Param('model') model: string, @Param('version') version: string, @Body() body: unknown) {
    return this.references.setReference(model, versionOf(version), body);
  }

  @Get('models/:model/versions/:version/reference')
  reference(@Param('model') model: string, @Param('version') version: string) {
    return this.driftWatch.reference(model, versionOf(version));
  }

  @Get('models/:model/drift')
  drift(@Param('model') model: string) {
    return this.driftWatch.drift(model);
  }

  /** Every evaluated window, newest first, a page at a time: each feature's statistic against its threshold over time. */
  @Get('models/:model/drift/history')
  driftHistoryOf(@Param('model') model: string, @Query() query: unknown) {
    return this.driftHistory.history(model, query);
  }

  @Get('models/:model/versions/:version/performance')
  performanceOf(@Param('model') model: string, @Param('version') version: string) {
    return this.performance.performanceOf(model, versionOf(version));
  }

  /** Champion, canaries with their verdicts, and per version: reference status and performance. */
  @Get('models/:model/status')
  modelStatus(@Param('model') model: string) {
    return this.monitoring.modelStatus(model);
  }

  @Get('status')
  status() {
    return this.monitoring.status();
  }
}
