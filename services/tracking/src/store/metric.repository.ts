import { Injectable } from '@nestjs/common';
import { DataSource, In } from 'typeorm';
import { LatestMetricEntity, MetricEntity, type LatestMetricRow, type MetricRow } from './entities';

/** Reads tracking_metrics (the history) and tracking_latest_metrics; RunLogStore writes them. */
@Injectable()
export class MetricRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** One metric's history by (step, timestamp, insertion), from `skip`, at most `take` rows (all without). */
  history(runUuid: string, key: string, page: { skip: number; take?: number }): Promise<MetricRow[]> {
    return this.dataSource.getRepository(MetricEntity).find({
      where: { runUuid, key },
      order: { step: 'ASC', timestamp: 'ASC', id: 'ASC' },
      skip: page.skip,
      take: page.take,
    });
  }

  /** The run's stored history rows of these keys at these steps. */
  async atSteps(runUuid: string, keys: string[], steps: number[]): Promise<MetricRow[]> {
    if (keys.length === 0) return [];
    return this.dataSource.getRepository(MetricEntity).find({ where: { runUuid, key: In(keys), step: In(steps) } });
  }

  /** The latest value of each of the run's metrics. */
  latest(runUuid: string): Promise<LatestMetricRow[]> {
    return this.dataSource.getRepository(LatestMetricEntity).find({ where: { runUuid } });
  }
}
