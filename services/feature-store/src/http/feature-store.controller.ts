import { Body, Controller, Get, Headers, HttpCode, Param, Post, Put } from '@nestjs/common';
import { z } from 'zod';
import { EventBus } from '@mlops/bus';
import { issuesOf } from '@mlops/contracts';
import { invalidFields, notFound } from '@mlops/http';
import { FeatureStoreService } from '../feature-store.service';
import { featureNames, featureViewSchema } from '../views/feature-view';
import type { VersionedView } from '../views/feature-view-catalog';

const time = z
  .union([z.iso.datetime({ offset: true }), z.number().int()], { error: 'expected an ISO-8601 time with offset or epoch milliseconds' })
  .transform((t) => (typeof t === 'number' ? t : Date.parse(t)));

const entityRows = z
  .array(
    z.object({
      entityKey: z.union([z.string().min(1), z.number()], { error: 'expected a non-empty string or a number' }).transform(String),
      timestamp: time,
    }),
    { error: 'expected an array of {entityKey, timestamp}' },
  )
  .min(1, 'at least one entity row')
  .max(1_000_000, 'at most 1,000,000 entity rows');

const historicalSchema = z.object({ featureView: z.string().min(1), entities: entityRows }).strict();

/**
 * POST /datasets: {featureView, entities? | from?/to?, model?, train?}. It materializes a
 * snapshot and announces it; training starts only with `"train": true` and the `model` to train.
 */
const datasetSchema = z
  .object({
    featureView: z.string().min(1),
    /** Point-in-time join over these entity rows; without them, the view's history. */
    entities: entityRows.optional(),
    from: time.optional(),
    to: time.optional(),
    /** The model to train on the snapshot (with train: true). */
    model: z.string().min(1).max(200).optional(),
    /** true: the trainer trains `model` on the snapshot (dataset.materialized carries the model). */
    train: z.boolean().optional(),
  })
  .strict()
  .refine((r) => !(r.entities && (r.from !== undefined || r.to !== undefined)), { path: ['from'], message: 'from/to apply to history datasets, not to entity rows' })
  .refine((r) => !r.train || r.model !== undefined, { path: ['model'], message: 'train: true needs the model to train' })
  .refine((r) => r.train || r.model === undefined, {
    path: ['train'],
    message: 'a model is trained only when asked: add "train": true (without it, POST /datasets only materializes; leave out model)',
  });

function parse<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw invalidFields(issuesOf(parsed.error));
  return parsed.data;
}

const describeView = ({ view, version }: VersionedView) => ({ ...view, version, featureNames: featureNames(view) });

@Controller()
export class FeatureStoreController {
  constructor(
    private readonly service: FeatureStoreService,
    private readonly bus: EventBus,
  ) {}

  @Get('feature-views')
  views() {
    return { featureViews: this.service.versionedViews().map(describeView) };
  }

  @Get('feature-views/:name')
  view(@Param('name') name: string) {
    return describeView(this.service.versionedView(name));
  }

  /**
   * How many feature rows the view holds (one per applied data.validated event, in the shared
   * offline store): a client that sent N records waits for N more before a dataset
   * (`mlops ingest` does).
   */
  @Get('feature-views/:name/rows')
  async viewRows(@Param('name') name: string) {
    const { view, version } = this.service.versionedView(name);
    return { name: view.name, version, rows: await this.service.offline.rowCount(view.name) };
  }

  /**
   * Adds or changes a view: the body is one view of the views file (its name from the path).
   * A changed definition becomes the next version; an identical one changes nothing.
   */
  @Put('feature-views/:name')
  async defineView(@Param('name') name: string, @Body() body: unknown) {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidFields([{ field: '', message: 'expected a JSON object (a feature view)' }]);
    if ('name' in body && body.name !== name) throw invalidFields([{ field: 'name', message: `the body names "${String(body.name)}" but the path names "${name}"` }]);
    const view = parse(featureViewSchema, { ...body, name });
    return this.service.defineView(view);
  }

  /** Point-in-time correct features for entity rows (as JSON; POST /datasets for a snapshot). */
  @Post('features/historical')
  @HttpCode(200)
  async historical(@Body() body: unknown) {
    const request = parse(historicalSchema, body);
    const view = this.service.view(request.featureView);
    const entities = request.entities.map((e) => ({ entityKey: e.entityKey, timestampMs: e.timestamp }));
    const rows = await this.service.historicalFeatures(view.name, entities);
    return {
      featureView: view.name,
      rows: entities.map((e, i) => ({
        entityKey: e.entityKey,
        timestamp: new Date(e.timestampMs).toISOString(),
        eventTimestamp: rows[i] ? new Date(rows[i]!.eventTimeMs).toISOString() : null,
        values: rows[i]?.values ?? null,
      })),
    };
  }

  /**
   * Materializes a snapshot and publishes dataset.materialized; with train: true the event
   * names the model, which the trainer then trains (otherwise nothing trains on it).
   */
  @Post('datasets')
  @HttpCode(201)
  async materialize(@Body() body: unknown, @Headers('x-correlation-id') correlationId?: string) {
    const request = parse(datasetSchema, body);
    const dataset = await this.service.materialize(request.featureView, {
      entities: request.entities?.map((e) => ({ entityKey: e.entityKey, timestampMs: e.timestamp })),
      fromMs: request.from,
      toMs: request.to,
    });
    const event = this.service.materializedEvent(dataset, { model: request.train ? request.model : undefined, correlationId: correlationId || undefined });
    await this.bus.publish(event);
    return { ...event.data, manifestUri: dataset.manifestUri, changed: dataset.changed, correlationId: event.correlationId };
  }

  @Get('datasets/:view/:version')
  async dataset(@Param('view') view: string, @Param('version') version: string) {
    const found = Number.isInteger(Number(version)) ? await this.service.dataset(view, Number(version)) : undefined;
    if (!found) throw notFound(`dataset ${view} version ${version} does not exist`);
    return found;
  }

  @Get('stats')
  stats() {
    return this.service.stats;
  }

  @Get('health/live')
  live() {
    return { status: 'ok' };
  }

  @Get('health/ready')
  async ready() {
    return { status: 'ok', ...(await this.service.ready()) };
  }
}
