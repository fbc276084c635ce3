import Redis from 'ioredis';
import type { OnlineRow, OnlineStore } from './online-store';

/** Sets the row only when it is not older than the stored one, atomically. */
const PUT_IF_NEWER = `
local current = redis.call('HGET', KEYS[1], 't')
if current and tonumber(current) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 't', ARGV[1], 'v', ARGV[2])
return 1`;

/** An HMGET t v reply as a row; undefined when the entity has none. */
function toRow([t, v]: (string | null)[]): OnlineRow | undefined {
  return t === null || v === null ? undefined : { eventTimeMs: Number(t), values: JSON.parse(v) };
}

/**
 * The distributed online store: one Redis hash per entity and view,
 * `<prefix>:<view>:<entity>` with `t` (event time, epoch ms) and `v` (JSON values).
 */
export class RedisOnlineStore implements OnlineStore {
  readonly kind = 'redis';
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = 'fs',
  ) {
    this.redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3 });
    this.redis.defineCommand('fsPutIfNewer', { numberOfKeys: 1, lua: PUT_IF_NEWER });
  }

  async connect(): Promise<this> {
    await this.redis.connect();
    return this;
  }

  private key(view: string, entityKey: string): string {
    return `${this.prefix}:${view}:${entityKey}`;
  }

  async put(view: string, entityKey: string, row: OnlineRow): Promise<boolean> {
    const stored = await (this.redis as unknown as { fsPutIfNewer(key: string, t: string, v: string): Promise<number> }).fsPutIfNewer(
      this.key(view, entityKey),
      String(row.eventTimeMs),
      JSON.stringify(row.values),
    );
    return stored === 1;
  }

  async get(view: string, entityKeys: string[]): Promise<(OnlineRow | undefined)[]> {
    if (entityKeys.length === 0) return [];
    // One key (the common online read) is one plain command: a pipeline object per call
    // costs more than the command itself.
    if (entityKeys.length === 1) return [toRow(await this.redis.hmget(this.key(view, entityKeys[0]), 't', 'v'))];
    const pipeline = this.redis.pipeline();
    for (const k of entityKeys) pipeline.hmget(this.key(view, k), 't', 'v');
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return toRow(value as (string | null)[]);
    });
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** Removes every key under the prefix (tests). */
  async clear(): Promise<void> {
    const keys = await this.redis.keys(`${this.prefix}:*`);
    if (keys.length) await this.redis.del(...keys);
  }
}
