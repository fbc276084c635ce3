import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { z } from 'zod';
import { issuesOf } from '@mlops/contracts';
import { invalidFields } from '@mlops/http';
import { TrainingParams } from '../training-params/model-training-params';

const modelName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'model names are letters, digits, ".", "_" or "-"');
const body = z
  .object({
    params: z
      .record(z.string(), z.unknown(), { error: 'expected a JSON object of training params, e.g. {"algorithm": "mlp", "epochs": 150}' })
      .refine((params) => JSON.stringify(params).length <= 16_384, 'expected at most 16 KiB of JSON'),
  })
  .strict();

function parse<T extends z.ZodType>(schema: T, value: unknown, field?: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw invalidFields(issuesOf(parsed.error).map((i) => (field ? { ...i, field } : i)));
  return parsed.data;
}

/** The training params of a model's retrains (none: the trainer's TRAINER_PARAMS). */
@Controller('api/models')
export class TrainingParamsController {
  constructor(private readonly params: TrainingParams) {}

  @Get(':model/training-params')
  get(@Param('model') model: string) {
    return this.params.of(parse(modelName, model, 'model'));
  }

  /** {"params": {"algorithm": "mlp", "epochs": 150}}: the next retrain of the model trains with these. */
  @Put(':model/training-params')
  set(@Param('model') model: string, @Body() request: unknown) {
    return this.params.set(parse(modelName, model, 'model'), parse(body, request).params);
  }
}
