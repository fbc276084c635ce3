import { MemoryOnlineStore } from './memory-online-store';
import { onlineStoreContract } from './online-store.contract';

onlineStoreContract('in-memory', async () => new MemoryOnlineStore());
