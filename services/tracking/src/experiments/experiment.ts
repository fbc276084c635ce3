import { NotFoundError } from '@mlops/errors';
import type { KeyValue } from '../runs/run';
import type { ExperimentRow } from '../store/entities';

/** An experiment with its tags (by key). */
export interface Experiment extends ExperimentRow {
  tags: KeyValue[];
}

/** Experiment ids are decimal strings on the wire; anything else names no experiment. */
export function parseExperimentId(id: unknown): number {
  const text = String(id ?? '');
  if (!/^\d{1,9}$/.test(text)) throw new NotFoundError(`no experiment with id "${text}"`);
  return Number(text);
}
