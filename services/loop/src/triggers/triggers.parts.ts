import { LoopOpener } from './loop-opener';
import { ManualTrigger } from './manual-trigger';
import { LoopScheduler } from './loop-scheduler';
import { NewDataCounter } from './new-data-counter';
import { NewDataConsumer } from './new-data.consumer';
import { TriggersController } from './triggers.controller';
import { TriggersRepository } from '../store/triggers.repository';
import { TriggersService } from './triggers.service';

/** The retrain triggers' controllers (HTTP and bus) and providers, as LoopModule lists them. */
export const triggerControllers = [TriggersController, NewDataConsumer];
export const triggerProviders = [TriggersRepository, TriggersService, LoopOpener, LoopScheduler, NewDataCounter, ManualTrigger];
