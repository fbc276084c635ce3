import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;

/**
 * Job records as one JSON file each under a directory, written atomically (temp file +
 * rename). This is the trainer's durable queue: a job is recorded before the event that
 * asked for it is acknowledged, so a crash loses no job and a redelivered event finds it.
 */
export class JobStore<T extends { job: { jobId: string; queuedAt: string } }> {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  private pathOf(jobId: string): string {
    if (!JOB_ID.test(jobId)) throw new Error(`job id ${JSON.stringify(jobId)} is not a safe file name`);
    return join(this.dir, `${jobId}.json`);
  }

  save(record: T): void {
    const path = this.pathOf(record.job.jobId);
    const temp = `${path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(record));
    renameSync(temp, path);
  }

  /** Every readable record, in the order the jobs were queued; unreadable files are reported and skipped. */
  loadAll(onUnreadable: (file: string, error: Error) => void = () => undefined): T[] {
    const records: T[] = [];
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith('.json'))) {
      try {
        const record = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as T;
        if (typeof record?.job?.jobId !== 'string' || typeof record.job.queuedAt !== 'string') throw new Error('not a job record {job: {jobId, queuedAt, ...}, request}');
        records.push(record);
      } catch (error) {
        onUnreadable(join(this.dir, file), error as Error);
      }
    }
    return records.sort((a, b) => a.job.queuedAt.localeCompare(b.job.queuedAt) || a.job.jobId.localeCompare(b.job.jobId));
  }
}
