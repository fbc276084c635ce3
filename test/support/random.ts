import { seededRandom } from '../../services/trainer/src/builtin/random';

/** A deterministic PRNG (the trainer's mulberry32): the same seed gives the same test data on every run. */
export const rng = seededRandom;

/** Standard normal draws from uniform ones (Box-Muller). */
export const normal = (r: () => number) => () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
