import { InProcessTransport } from '@mlops/bus';
import { busServerContract } from './bus.server.contract';

busServerContract('in-process', () => new InProcessTransport());
