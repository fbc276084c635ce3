import { InvalidInputError } from '@mlops/errors';

/** A page token is the base64url JSON of the offset where the next page starts. */
interface PageToken {
  offset: number;
}

/** The offset a page token points at; 0 without one. */
export function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as PageToken;
    if (Number.isInteger(parsed.offset) && parsed.offset >= 0) return parsed.offset;
  } catch {
    /* fall through */
  }
  throw new InvalidInputError(`invalid page_token "${token}"`);
}

export const encodeToken = (offset: number) => Buffer.from(JSON.stringify({ offset } satisfies PageToken)).toString('base64url');
