import { Body, Controller, Get, Param, Post, Put } from '@nestjs/common';
import { ManualTrigger } from './manual-trigger';
import { checkModel, parseManualRun, parseTriggers } from './trigger-config';
import { TriggersService } from './triggers.service';

@Controller('api/triggers')
export class TriggersController {
  constructor(
    private readonly triggers: TriggersService,
    private readonly manual: ManualTrigger,
  ) {}

  /** GET /api/triggers : the defaults and every model with triggers of its own. */
  @Get()
  list() {
    return this.triggers.list();
  }

  /** GET /api/triggers/:model : the triggers that apply to the model (its own, else the defaults). */
  @Get(':model')
  async get(@Param('model') model: string) {
    return { trigger: await this.triggers.get(model) };
  }

  /** PUT /api/triggers/:model {"drift","performance","schedule","newData"} : sets all of the model's triggers. */
  @Put(':model')
  async put(@Param('model') model: string, @Body() body: unknown) {
    return { trigger: await this.triggers.put(model, parseTriggers(body)) };
  }

  /** POST /api/triggers/:model/run {"reason"?} : opens a loop now (trigger `manual`); refused (400, FailedPrecondition) while a loop of the model is open or in its cooldown. */
  @Post(':model/run')
  async run(@Param('model') model: string, @Body() body: unknown) {
    checkModel(model);
    const { reason } = parseManualRun(body);
    return { loop: await this.manual.run(model, reason) };
  }
}
