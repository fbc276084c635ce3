import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { parseDeliveriesQuery, parseWebhook } from './webhook-config';
import { WebhooksService } from './webhooks.service';

@Controller('api/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  /** POST /api/webhooks {"url","secret","events":[...],"model"?} : 201 with the webhook (not its secret); no model: every model. */
  @Post()
  @HttpCode(201)
  async create(@Body() body: unknown) {
    return { webhook: await this.webhooks.create(parseWebhook(body)) };
  }

  /** GET /api/webhooks : every webhook, oldest first. */
  @Get()
  async list() {
    return { webhooks: await this.webhooks.list() };
  }

  /** GET /api/webhooks/:id */
  @Get(':id')
  async get(@Param('id') id: string) {
    return { webhook: await this.webhooks.get(id) };
  }

  /** DELETE /api/webhooks/:id : the webhook and its deliveries (pending ones are not sent). */
  @Delete(':id')
  async remove(@Param('id') id: string) {
    await this.webhooks.remove(id);
    return { deleted: id };
  }

  /** GET /api/webhooks/:id/deliveries?status=pending|delivered|failed&limit= : the delivery log, newest first. */
  @Get(':id/deliveries')
  async deliveries(@Param('id') id: string, @Query() query: unknown) {
    return { deliveries: await this.webhooks.deliveries(id, parseDeliveriesQuery(query)) };
  }
}
