import { Controller, Get, Param, Query } from '@nestjs/common';
import { invalidFields } from '@mlops/http';
import { z } from 'zod';
import { ModelOverview } from '../catalog/model-overview';

const pageQuery = z.object({
  max_results: z.coerce.number().int().min(1).max(1000).default(100),
  page_token: z.string().min(1).optional(),
});

function pageOf(query: unknown) {
  const parsed = pageQuery.safeParse(query);
  if (!parsed.success) throw invalidFields(parsed.error.issues.map((i) => ({ field: i.path.join('.') || '(query)', message: i.message })));
  return parsed.data;
}

/** The lifecycle listings: models (champion, versions, what serving runs), one model, and a model's versions, newest first. */
@Controller()
export class LifecycleController {
  constructor(private readonly overview: ModelOverview) {}

  @Get('models')
  models(@Query() query: unknown) {
    const { max_results, page_token } = pageOf(query);
    return this.overview.models(max_results, page_token);
  }

  @Get('models/:name')
  model(@Param('name') name: string) {
    return this.overview.model(name);
  }

  @Get('models/:name/versions')
  versions(@Param('name') name: string, @Query() query: unknown) {
    const { max_results, page_token } = pageOf(query);
    return this.overview.versions(name, max_results, page_token);
  }
}
