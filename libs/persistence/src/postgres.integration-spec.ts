import { infraEnv } from '../../../test/infra/infra-env';
import { persistenceContract } from './persistence.contract';

// Every case uses a service prefix unique to this run (`t<timestamp>_<n>`) and the suite
// drops its tables at the end, so runs against a shared server do not collide.
persistenceContract('postgres', () => infraEnv().DATABASE_URL);
