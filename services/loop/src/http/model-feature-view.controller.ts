import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { z } from 'zod';
import { issuesOf } from '@mlops/contracts';
import { invalidFields } from '@mlops/http';
import { ModelFeatureViews } from '../feature-views/model-feature-views';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
const modelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'model names are letters, digits, ".", "_" or "-"');
const body = z.object({ featureView: z.string().regex(NAME, 'feature view names are letters, digits and _ (not starting with a digit)') }).strict();

function parse<T extends z.ZodType>(schema: T, value: unknown, field?: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidFields(issuesOf(parsed.error).map((i) => (field ? { ...i, field } : i)));
  return parsed.data;
}

/** The feature view a model retrains from (LOOP_FEATURE_VIEWS is the default). */
@Controller('api/models')
export class ModelFeatureViewController {
  constructor(private readonly views: ModelFeatureViews) {}

  @Get(':model/feature-view')
  get(@Param('model') model: string) {
    return this.views.of(parse(modelName, model, 'model'));
  }

  /** {"featureView": "churn_features"}: the next drift of the model retrains from this view. */
  @Put(':model/feature-view')
  set(@Param('model') model: string, @Body() request: unknown) {
    return this.views.set(parse(modelName, model, 'model'), parse(body, request).featureView);
  }
}
