import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { applyOnce, inTransaction, type ApplyOnceResult } from '@mlops/persistence';
import { SERVICE } from '../registry.names';

/** A registry transaction; the repositories take it to read and write inside it. */
export type RegistryTx = EntityManager;

/** Transactions over the registry's tables (several repositories take part in one). */
@Injectable()
export class RegistryTransactions {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(work: (tx: RegistryTx) => Promise<T>): Promise<T> {
    return inTransaction(this.dataSource, work);
  }

  /** Runs `work` once per event id for `consumer` (the id commits with its effect). */
  applyOnce<T>(consumer: string, eventId: string, work: (tx: RegistryTx) => Promise<T>): Promise<ApplyOnceResult<T>> {
    return applyOnce(this.dataSource, SERVICE, consumer, eventId, work);
  }
}
