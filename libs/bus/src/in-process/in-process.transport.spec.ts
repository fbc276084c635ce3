import { busContract } from '../bus.contract';
import { batchContract } from '../batch.contract';
import { InProcessTransport } from './in-process.transport';

busContract('in-process', () => new InProcessTransport());

batchContract('in-process', () => new InProcessTransport());
