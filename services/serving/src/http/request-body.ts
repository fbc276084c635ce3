import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { InvalidInputError, TooLargeError } from '@mlops/errors';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/**
 * The whole request body, at most `limit` bytes (after decompression too), decompressed when
 * Content-Encoding is gzip or deflate (what tritonclient's request_compression_algorithm sends).
 */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new TooLargeError(`request body over ${limit} bytes (SERVING_MAX_MESSAGE_BYTES)`);
    chunks.push(chunk);
  }
  const body = Buffer.concat(chunks);
  const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding === 'identity') return body;
  if (encoding !== 'gzip' && encoding !== 'deflate') throw InvalidInputError.of([{ field: 'Content-Encoding', message: `expected gzip, deflate or none, got '${encoding}'` }]);
  try {
    return await (encoding === 'gzip' ? gunzipAsync : inflateAsync)(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new TooLargeError(`request body over ${limit} bytes once decompressed (SERVING_MAX_MESSAGE_BYTES)`);
    throw InvalidInputError.of([{ field: 'Content-Encoding', message: `the body is not valid ${encoding} data (${(error as Error).message})` }]);
  }
}
