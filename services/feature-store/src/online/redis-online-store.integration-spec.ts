import { randomUUID } from 'node:crypto';
import { infraEnv } from '../../../../test/infra/infra-env';
import { onlineStoreContract } from './online-store.contract';
import { RedisOnlineStore } from './redis-online-store';

const opened: RedisOnlineStore[] = [];
onlineStoreContract('redis', async () => {
  const store = await new RedisOnlineStore(infraEnv().REDIS_URL, `fs-it-${randomUUID()}`).connect();
  opened.push(store);
  return store;
});

afterAll(async () => {
  // Each case used its own prefix; remove what they wrote.
  for (const store of opened) {
    const cleaner = await new RedisOnlineStore(infraEnv().REDIS_URL, (store as unknown as { prefix: string }).prefix).connect();
    await cleaner.clear();
    await cleaner.close();
  }
});
