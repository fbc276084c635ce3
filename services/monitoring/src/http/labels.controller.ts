import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { LabelIntake } from './label-intake';

/** POST /labels: ground truth for logged predictions, as label.observed events. */
@Controller()
export class LabelsController {
  constructor(private readonly intake: LabelIntake) {}

  @Post('labels')
  @HttpCode(202)
  labels(@Body() body: unknown) {
    return this.intake.accept(body);
  }
}
