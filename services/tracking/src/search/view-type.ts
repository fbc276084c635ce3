import { InvalidInputError } from '@mlops/errors';

/** The lifecycle stage an MLflow view type selects (by name or number); undefined for ALL. */
export function stageFilter(viewType: unknown): string | undefined {
  const view = String(viewType ?? 'ACTIVE_ONLY').toUpperCase();
  if (view === 'ACTIVE_ONLY' || view === '1') return 'active';
  if (view === 'DELETED_ONLY' || view === '2') return 'deleted';
  if (view === 'ALL' || view === '3') return undefined;
  throw new InvalidInputError(`invalid view type "${String(viewType)}"`);
}
