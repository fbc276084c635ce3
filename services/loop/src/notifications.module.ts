import { Module, type DynamicModule } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LoopMetrics } from './loop.metrics';
import { LOOP_CLOCK, LOOP_LOG, LOOP_SETTINGS, type LoopClock, type LoopLog, type LoopSettings } from './loop.settings';
import { DeliveryPoller } from './notifications/delivery-poller';
import { LoopNotifications } from './notifications/loop-notifications';
import { NotificationsConsumer } from './notifications/notifications.consumer';
import { Notifier } from './notifications/notifier';
import { SecretBox } from './notifications/secret-box';
import { WebhooksController } from './notifications/webhooks.controller';
import { WebhooksRepository } from './notifications/store/webhooks.repository';
import { WebhooksService } from './notifications/webhooks.service';

/**
 * Webhook notifications: the webhooks API, the consumer of the bus events they notify, the
 * delivery poller; LoopNotifications is exported so the loop queues a notification in the
 * transaction that ends a loop.
 */
@Module({})
export class NotificationsModule {
  static forRoot(runtime: { settings: LoopSettings; now: LoopClock; log: LoopLog; dataSource: DataSource; metrics: LoopMetrics }): DynamicModule {
    return {
      module: NotificationsModule,
      controllers: [WebhooksController, NotificationsConsumer],
      providers: [
        { provide: LOOP_SETTINGS, useValue: runtime.settings },
        { provide: LOOP_CLOCK, useValue: runtime.now },
        { provide: LOOP_LOG, useValue: runtime.log },
        { provide: DataSource, useValue: runtime.dataSource },
        { provide: LoopMetrics, useValue: runtime.metrics },
        { provide: SecretBox, useValue: new SecretBox(runtime.settings.webhooks.secretKey) },
        WebhooksRepository,
        WebhooksService,
        Notifier,
        LoopNotifications,
        DeliveryPoller,
      ],
      exports: [LoopNotifications],
    };
  }
}
