import { Controller, Get } from '@nestjs/common';

/** MLflow's server answers GET /health with "OK"; its clients and probes use it. */
@Controller()
export class MlflowHealthController {
  @Get('health')
  health() {
    return 'OK';
  }
}
