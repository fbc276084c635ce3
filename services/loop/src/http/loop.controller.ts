import { Controller, Get, Param, Query } from '@nestjs/common';
import { z } from 'zod';
import { invalid } from '@mlops/http';
import { LoopQueries } from '../queries/loop-queries';
import { LOOP_OUTCOMES, LOOP_STATUSES, LOOP_TRIGGERS } from '../store/entities';

const listQuery = z.object({
  model: z.string().min(1).max(200).optional(),
  status: z.enum(LOOP_STATUSES).optional(),
  outcome: z.enum(LOOP_OUTCOMES).optional(),
  trigger: z.enum(LOOP_TRIGGERS).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

@Controller('api/loops')
export class LoopController {
  constructor(private readonly loops: LoopQueries) {}

  /** GET /api/loops?model=&status=open|closed&outcome=&trigger=&limit= : newest first. */
  @Get()
  async list(@Query() query: unknown) {
    const parsed = listQuery.safeParse(query);
    if (!parsed.success) {
      throw invalid(parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
    }
    return { loops: await this.loops.list(parsed.data) };
  }

  /** GET /api/loops/:correlationId : the loop with its stages in order and their durations. */
  @Get(':correlationId')
  async get(@Param('correlationId') correlationId: string) {
    return { loop: await this.loops.get(correlationId) };
  }
}
