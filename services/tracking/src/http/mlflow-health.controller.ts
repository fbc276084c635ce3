import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse } from '@nestjs/swagger';

/** MLflow's server answers GET /health with "OK"; its clients and probes use it. */
@Controller()
export class MlflowHealthController {
  @Get('health')
  @Header('Content-Type', 'text/plain; charset=utf-8')
  @ApiOkResponse({ description: 'OK', content: { 'text/plain': { schema: { type: 'string', enum: ['OK'] } } } })
  health() {
    return 'OK';
  }
}
