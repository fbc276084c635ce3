import { KafkaTransport } from '@mlops/bus';
import { infraEnv } from '../../../../test/infra/infra-env';
import { busServerContract } from './bus.server.contract';

const brokers = () => infraEnv().KAFKA_BROKERS.split(',');

busServerContract('kafka with transactions (real broker)', () => new KafkaTransport({ brokers: brokers(), clientId: 'bus-server-test', transactionalId: `bus-server-${process.pid}` }));
