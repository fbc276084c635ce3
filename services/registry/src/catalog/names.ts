import { InvalidInputError } from '@mlops/errors';

const NAME = /^[\p{L}\p{N}_.\-]{1,200}$/u;
const ALIAS = /^[a-zA-Z_][a-zA-Z0-9_-]{0,99}$/;

/** A model name from a request: 1-200 letters, digits, '_', '.' or '-'. */
export function validName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new InvalidInputError(`invalid model name ${JSON.stringify(name)}: 1-200 letters, digits, '_', '.' or '-'`);
  }
  return name;
}

/** A version number from a request (a string or a number). */
export function validVersion(version: unknown): number {
  const text = String(version ?? '');
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new InvalidInputError(`invalid version ${JSON.stringify(version)}: expected a positive integer`);
  return Number(text);
}

/** An alias from a request; `v<n>` and `latest` are reserved (MLflow). */
export function validAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias)) throw new InvalidInputError(`invalid alias ${JSON.stringify(alias)}`);
  if (/^v\d+$/i.test(alias) || alias.toLowerCase() === 'latest') throw new InvalidInputError(`alias "${alias}" is reserved`);
  return alias;
}
