import { infraEnv } from '../../../../test/infra/infra-env';
import { busContract } from '../bus.contract';
import { batchContract } from '../batch.contract';
import { KafkaTransport } from './kafka.transport';

const brokers = () => infraEnv().KAFKA_BROKERS.split(',');

busContract('kafka (real broker)', () => new KafkaTransport({ brokers: brokers(), clientId: 'contract-test' }));

busContract(
  'kafka with transactions (real broker)',
  () => new KafkaTransport({ brokers: brokers(), clientId: 'contract-test-tx', transactionalId: `contract-${process.pid}` }),
);

batchContract('kafka (real broker)', () => new KafkaTransport({ brokers: brokers(), clientId: 'batch-contract-test' }));

batchContract(
  'kafka with transactions (real broker)',
  () => new KafkaTransport({ brokers: brokers(), clientId: 'batch-contract-test-tx', transactionalId: `batch-contract-${process.pid}` }),
);
