import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { parseTriggers } from './trigger-config';
import { TriggersService } from './triggers.service';

@Controller('api/triggers')
export class TriggersController {
  constructor(private readonly triggers: TriggersService) {}

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
}
