/** What a logged prediction said, in the terms the performance metrics need. */
export type PredictionOutcome =
  | { kind: 'classification'; predicted: string; /** P(positive class), binary models only. */ score?: number }
  | { kind: 'regression'; value: number };

export interface OutputNames {
  label: string;
  probabilities: string;
  prediction: string;
}

type Outputs = Record<string, number | number[] | string | undefined>;

function argmax(values: number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Reads serving's prediction.logged outputs: a classifier logs `label` (the predicted class)
 * and `probabilities` (one per class, in class order); a regressor logs `predictions`.
 * Without a label output the class is the argmax index. Undefined when neither is present.
 */
export function outcomeOf(outputs: Outputs, names: OutputNames): PredictionOutcome | undefined {
  const label = outputs[names.label];
  const probabilities = outputs[names.probabilities];
  const scores = Array.isArray(probabilities) ? probabilities : typeof probabilities === 'number' ? [1 - probabilities, probabilities] : undefined;
  if (label !== undefined || scores) {
    const predicted = label !== undefined && !Array.isArray(label) ? String(label) : String(argmax(scores!));
    return { kind: 'classification', predicted, score: scores?.length === 2 ? scores[1] : undefined };
  }
  const value = outputs[names.prediction];
  const single = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
  if (typeof single === 'number' && Number.isFinite(single)) return { kind: 'regression', value: single };
  return undefined;
}
