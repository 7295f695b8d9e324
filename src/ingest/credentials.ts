import type { FastifyRequest } from 'fastify';
import { HttpError } from './http-error';

/**
 * The key a caller presented, in any of the three forms of README.md, "Sending events":
 * `Authorization: Basic base64("<key>:")`, `Authorization: Bearer <key>`, or a `writeKey` in the body.
 * Returns undefined when none was given; throws 401 for an Authorization header that cannot be read.
 */
export function headerKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return undefined;
  const match = /^(Basic|Bearer)\s+(\S+)\s*$/i.exec(header);
  if (!match)
    throw new HttpError(401, 'UNAUTHENTICATED', 'Authorization must be "Basic base64(<key>:)" or "Bearer <key>"');
  if (match[1].toLowerCase() === 'bearer') return match[2];
  const decoded = Buffer.from(match[2], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon === -1 ? decoded : decoded.slice(0, colon);
  if (!key) throw new HttpError(401, 'UNAUTHENTICATED', 'Basic authorization must carry the key as the user name');
  return key;
}

export function bodyKey(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const writeKey = (body as Record<string, unknown>).writeKey;
  return typeof writeKey === 'string' && writeKey !== '' ? writeKey : undefined;
}
