import type { FactoryProvider } from '@nestjs/common';
import { FEATURE_STORE_SETTINGS, type FeatureStoreSettings } from '../feature-store.settings';
import { MemoryOnlineStore } from './memory-online-store';
import { OnlineStore } from './online-store';
import { RedisOnlineStore } from './redis-online-store';

/** The adapter ONLINE_STORE names: in this process (memory) or shared by every instance (redis), connected. */
export async function openOnlineStore(settings: FeatureStoreSettings['online']): Promise<OnlineStore> {
  if (settings.kind === 'memory') return new MemoryOnlineStore();
  return new RedisOnlineStore(settings.url, settings.keyPrefix).connect();
}

/** Provides the OnlineStore port with the adapter of the settings. */
export const onlineStoreProvider: FactoryProvider<Promise<OnlineStore>> = {
  provide: OnlineStore,
  useFactory: (settings: FeatureStoreSettings) => openOnlineStore(settings.online),
  inject: [FEATURE_STORE_SETTINGS],
};
