import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { issuesOf } from '@mlops/contracts';
import { invalidFields, tooLarge } from '@mlops/http';
import { IngestionService } from '../ingestion.service';
import { INGESTION_SETTINGS, type IngestionSettings } from '../ingestion.settings';

const batchSchema = z.object({ records: z.array(z.unknown(), { error: 'expected an array of records' }) });

@Controller()
export class IngestionController {
  constructor(
    private readonly service: IngestionService,
    @Inject(INGESTION_SETTINGS) private readonly settings: Pick<IngestionSettings, 'records'>,
  ) {}

  @Get('sources')
  sources() {
    return { sources: this.service.sources().map((s) => this.service.contract(s)) };
  }

  @Put('sources/:source/contract')
  async register(@Param('source') source: string, @Body() body: unknown) {
    const { registered, changed } = await this.service.registerContract(source, body);
    return { ...registered, changed };
  }

  @Get('sources/:source/contract')
  contract(@Param('source') source: string) {
    return this.service.contract(source);
  }

  /** Returns once every accepted and rejected record is durably on the bus. */
  @Post('sources/:source/records')
  @HttpCode(200)
  async ingest(
    @Param('source') source: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    const parsed = batchSchema.safeParse(body);
    if (!parsed.success) throw invalidFields(issuesOf(parsed.error));
    const { records } = parsed.data;
    const { maxBatch } = this.settings.records;
    if (records.length > maxBatch) {
      throw tooLarge(`batch of ${records.length} records exceeds INGESTION_MAX_BATCH=${maxBatch}`);
    }
    return this.service.ingestBatch(source, records, idempotencyKey);
  }
}
