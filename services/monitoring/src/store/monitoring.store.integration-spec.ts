import { infraEnv } from '../../../../test/infra/infra-env';
import { onceEachContract } from './monitoring.store.contract';

onceEachContract('postgres (real server)', () => infraEnv().DATABASE_URL);
