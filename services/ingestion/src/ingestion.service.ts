import { randomUUID } from 'node:crypto';
import { Injectable, type OnModuleInit } from '@nestjs/common';
import { v5 as uuidv5 } from 'uuid';
import { createEvent, issuesOf, rawTopic, type AnyEvent, type ContractIssue, type EventEnvelope } from '@mlops/contracts';
import { EventBus } from '@mlops/bus';
import { InvalidInputError, NotFoundError } from '@mlops/errors';
import { dataContractSchema, type RegisteredContract } from './contracts/data-contract';
import { DataContractRepository } from './contracts/data-contract.repository';
import { compileValidator, type Validation } from './records/record-validator';
import { oversizeEventIssue, PREVIEW_CHARS, recordPreview } from './records/record-size';

/** Bytes of an unread record decoded for its preview (a UTF-8 character takes at most 4). */
const PREVIEW_BYTES = PREVIEW_CHARS * 4;

const SERVICE = 'ingestion';
/** Namespace for deterministic event ids: the same record of a source is the same event. */
const EVENT_ID_NAMESPACE = '6f1c4c1e-9a57-4d2a-9c0e-3b1f0e7a2d11';

export class UnknownSourceError extends NotFoundError {
  constructor(readonly source: string) {
    super(`no data contract is registered for source "${source}"; PUT /sources/${source}/contract first`);
  }
}

export class InvalidContractError extends InvalidInputError {
  constructor(issues: ContractIssue[]) {
    super(`invalid data contract: ${issues.map((i) => `${i.field || '(root)'}: ${i.message}`).join('; ')}`, issues);
  }
}

export interface Rejection {
  index: number;
  recordId?: string;
  reasons: ContractIssue[];
}

export interface BatchResult {
  source: string;
  contractVersion: number;
  accepted: number;
  rejected: number;
  rejections: Rejection[];
}

/** What a raw record arrived with besides its value, kept in its data.validated event. */
export interface RawRecordOrigin {
  /** topic:partition:offset, the record id of a record without an id field. */
  position: string;
  key?: string;
  headers?: Record<string, string>;
}

interface CompiledContract {
  registered: RegisteredContract;
  validate: (record: unknown) => Validation;
}

/**
 * Validates records against their source's data contract and turns them into
 * `data.validated` events, or `data.rejected` events (the DLQ) that say which field failed.
 */
@Injectable()
export class IngestionService implements OnModuleInit {
  private readonly compiled = new Map<string, CompiledContract>();
  private readonly listeners = new Set<(sources: string[]) => void>();

  constructor(
    private readonly contracts: DataContractRepository,
    private readonly bus: EventBus,
  ) {}

  /** The registered contracts are loaded before the HTTP API and the raw consumer start. */
  onModuleInit(): Promise<void> {
    return this.loadContracts();
  }

  async loadContracts(): Promise<void> {
    for (const registered of await this.contracts.allLatest()) this.cache(registered);
  }

  private cache(registered: RegisteredContract): void {
    this.compiled.set(registered.source, { registered, validate: compileValidator(registered.contract) });
  }

  sources(): string[] {
    return [...this.compiled.keys()].sort();
  }

  /** Called with the new source list when a source is added. */
  onSourcesChanged(listener: (sources: string[]) => void): void {
    this.listeners.add(listener);
  }

  contract(source: string): RegisteredContract {
    const compiled = this.compiled.get(source);
    if (!compiled) throw new UnknownSourceError(source);
    return compiled.registered;
  }

  async registerContract(source: string, input: unknown): Promise<{ registered: RegisteredContract; changed: boolean }> {
    try {
      rawTopic(source); // validates the source name
    } catch (error) {
      throw new InvalidInputError((error as Error).message);
    }
    const parsed = dataContractSchema.safeParse(input);
    if (!parsed.success) throw new InvalidContractError(issuesOf(parsed.error));
    const isNewSource = !this.compiled.has(source);
    const result = await this.contracts.register(source, parsed.data);
    this.cache(result.registered);
    if (isNewSource) this.listeners.forEach((l) => l(this.sources()));
    return result;
  }

  /**
   * Validates a batch. `fallbackId(i)` names a record that has no id field of its own, so a
   * re-sent record maps to the same event id; without one the event id is random.
   */
  toEvents(
    source: string,
    records: unknown[],
    fallbackId: (index: number) => string | undefined,
    correlationId?: string,
    origin?: Omit<RawRecordOrigin, 'position'>,
  ): { events: AnyEvent[]; result: BatchResult } {
    const compiled = this.compiled.get(source);
    if (!compiled) throw new UnknownSourceError(source);
    const { version } = compiled.registered;
    const events: AnyEvent[] = [];
    const rejections: Rejection[] = [];
    records.forEach((record, index) => {
      const outcome = compiled.validate(record);
      const recordId = outcome.recordId ?? fallbackId(index);
      const id = recordId ? uuidv5(`${source}/${recordId}`, EVENT_ID_NAMESPACE) : undefined;
      const reject = (reasons: ContractIssue[]) => {
        rejections.push({ index, recordId, reasons });
        events.push(this.rejectedEvent(source, record, reasons, recordId, correlationId));
      };
      if (outcome.ok) {
        const validated = createEvent('data.validated', {
            id,
            source: SERVICE,
            subject: outcome.entityKey ?? source,
            correlationId,
            data: {
              source,
              recordId: recordId ?? randomUUID(),
              contractVersion: version,
              eventTime: outcome.eventTime,
              entityKey: outcome.entityKey,
              record: outcome.record,
              ...(origin?.key !== undefined && { producerKey: origin.key }),
              ...(origin?.headers && Object.keys(origin.headers).length > 0 && { headers: origin.headers }),
            },
          });
        // An event the broker would refuse would stop its partition: the record is rejected instead.
        const over = this.bus.eventViolation(validated);
        if (over) reject([oversizeEventIssue(record, over)]);
        else events.push(validated);
      } else {
        reject(outcome.reasons);
      }
    });
    return {
      events,
      result: { source, contractVersion: version, accepted: records.length - rejections.length, rejected: rejections.length, rejections },
    };
  }

  rejectedEvent(
    source: string,
    record: unknown,
    reasons: ContractIssue[],
    recordId?: string,
    correlationId?: string,
  ): EventEnvelope<'data.rejected'> {
    const rejected = (kept: unknown) =>
      createEvent('data.rejected', {
        id: recordId ? uuidv5(`${source}/${recordId}/rejected`, EVENT_ID_NAMESPACE) : undefined,
        source: SERVICE,
        subject: source,
        correlationId,
        data: { source, recordId, reasons, record: kept },
      });
    const whole = rejected(record ?? null);
    // Too big to carry whole: the rejection keeps the start of the record's JSON.
    return this.bus.eventViolation(whole) ? rejected(recordPreview(record)) : whole;
  }

  /** The HTTP path: returns after every event of the batch is durably published. */
  async ingestBatch(source: string, records: unknown[], idempotencyKey?: string): Promise<BatchResult> {
    const { events, result } = this.toEvents(source, records, (i) => (idempotencyKey ? `${idempotencyKey}:${i}` : undefined));
    await this.bus.publish(events);
    return result;
  }

  /**
   * The Kafka path: one raw message becomes one validated or rejected event. The producer's
   * key and headers travel in data.validated as `producerKey` and `headers`.
   */
  eventForRawMessage(source: string, value: Buffer, origin: RawRecordOrigin): AnyEvent {
    const { position, ...sent } = origin;
    let record: unknown;
    try {
      record = JSON.parse(value.toString('utf8'));
    } catch (error) {
      return this.rejectedEvent(source, recordPreview(value.toString('utf8')), [
        { field: '', message: `not valid JSON: ${(error as Error).message}` },
      ], position);
    }
    if (!this.compiled.has(source)) {
      return this.rejectedEvent(source, record, [{ field: '', message: new UnknownSourceError(source).message }], position);
    }
    return this.toEvents(source, [record], () => position, undefined, sent).events[0];
  }

  /** A raw record over a bus limit, rejected without being parsed. */
  rejectedUnread(source: string, value: Buffer, position: string, reason: ContractIssue): AnyEvent {
    return this.rejectedEvent(source, recordPreview(value.subarray(0, PREVIEW_BYTES).toString('utf8')), [reason], position);
  }
}
