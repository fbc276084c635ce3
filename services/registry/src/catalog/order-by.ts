import { InvalidInputError } from '@mlops/errors';

type SortValue = string | number;

/**
 * MLflow's search `order_by`: a list of `<key> [ASC|DESC]` (ASC by default), the first key
 * first. Returns a comparator over the keys given, or undefined for no order_by. Rows that tie
 * on every key keep the order they came in (the search's default order), as in MLflow.
 */
export function orderBy<T>(clauses: readonly string[] | undefined, keys: Record<string, (row: T) => SortValue>): ((a: T, b: T) => number) | undefined {
  if (!clauses?.length) return undefined;
  const parsed = clauses.map((clause, i) => {
    const match = /^\s*`?([a-z_]+)`?(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    const read = match ? keys[match[1].toLowerCase()] : undefined;
    if (!match || !read) {
      throw InvalidInputError.of([
        { field: `order_by[${i}]`, message: `invalid order_by clause ${JSON.stringify(clause)}: expected "<key> [ASC|DESC]" with key one of ${Object.keys(keys).join(', ')}` },
      ]);
    }
    return { read, sign: match[2]?.toUpperCase() === 'DESC' ? -1 : 1 };
  });
  return (a, b) => {
    for (const { read, sign } of parsed) {
      const [x, y] = [read(a), read(b)];
      if (x !== y) return (x < y ? -1 : 1) * sign;
    }
    return 0;
  };
}
