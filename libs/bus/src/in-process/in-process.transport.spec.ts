import { busContract } from '../bus.contract';
import { InProcessTransport } from './in-process.transport';

busContract('in-process', () => new InProcessTransport());
