import type { Registry } from 'prom-client';
import type { EventBus } from '@mlops/bus';
import { createConsumerLagMetrics } from '@mlops/metrics';

/**
 * Exports `mlops_kafka_consumer_lag{group,topic,partition}` on the service's registry: at each
 * scrape, the bus asks the broker for the end offsets of the topics it consumes and its groups'
 * committed offsets. Nothing on the in-process bus (it cannot lag). A broker that does not
 * answer is logged once (the last values stay) until it answers again.
 */
export function exportConsumerLag(registry: Registry, bus: EventBus, log: { log(message: string): void; warn(message: string): void }): void {
  if (bus.transport.kind !== 'kafka') return;
  let failing = false;
  createConsumerLagMetrics(registry, {
    read: async () => {
      const lags = await bus.consumerLag();
      if (failing) log.log('consumer lag: the broker answers again');
      failing = false;
      return lags;
    },
    onError: (error) => {
      if (!failing) log.warn(`consumer lag unavailable (mlops_kafka_consumer_lag keeps its last values): ${error.message}`);
      failing = true;
    },
  });
}
