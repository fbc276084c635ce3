import type { Pool, PoolClient } from 'pg';
import { infraEnv } from '../../../test/infra/infra-env';
import { openDataSource } from './data-source';
import { persistenceContract } from './persistence.contract';

// Every case uses a service prefix unique to this run (`t<timestamp>_<n>`) and the suite
// drops its tables at the end, so runs against a shared server do not collide.
persistenceContract('postgres', () => infraEnv().DATABASE_URL);

describe('postgres connections of openDataSource', () => {
  it('a connection the pool has just handed out has an error listener: a server error then (a shutdown FATAL) does not kill the process', async () => {
    const dataSource = await openDataSource({ service: `t${Date.now()}_listened`, url: infraEnv().DATABASE_URL, entities: [], migrations: [] });
    try {
      const pool = (dataSource.driver as unknown as { master: Pool }).master;
      const client: PoolClient = await pool.connect();
      // pg-pool took its own listener off when it handed the connection out.
      expect(client.listenerCount('error')).toBe(1);
      expect(() => client.emit('error', new Error('terminating connection due to administrator command'))).not.toThrow();
      client.release(new Error('discarded by the test'));
      expect(await dataSource.query('select 1 as one')).toEqual([{ one: 1 }]);
    } finally {
      await dataSource.destroy();
    }
  });
});
