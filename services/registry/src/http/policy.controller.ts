import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ReleasePolicies } from '../policy/release-policies';

/** A model's release policy: declared with PUT (a new version on each change), read with GET. */
@Controller()
export class PolicyController {
  constructor(private readonly policies: ReleasePolicies) {}

  @Put('models/:name/policy')
  put(@Param('name') name: string, @Body() body: unknown) {
    return this.policies.put(name, body);
  }

  @Get('models/:name/policy')
  get(@Param('name') name: string) {
    return this.policies.get(name);
  }

  @Get('models/:name/policy/versions')
  history(@Param('name') name: string) {
    return this.policies.history(name);
  }
}
