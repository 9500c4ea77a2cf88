/** Bearer-token checks: a mini program session, or a configured token (admin, metrics). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../payments/lib/errors.js';
import type { LoginService, SessionUser } from '../../payments/login/login-service.js';
import { failureLimit } from '../plugins/rate-limits.js';

export function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header.trim());
  return match?.[1];
}

export async function requireUser(
  request: FastifyRequest,
  login: LoginService,
): Promise<SessionUser> {
  const token = bearer(request);
  const user = token ? await login.authenticate(token) : null;
  if (!user) {
    throw new DomainError(
      401,
      'UNAUTHORIZED',
      token
        ? 'the session token is unknown or expired; log in again (POST /api/v1/login)'
        : 'send Authorization: Bearer <token> from POST /api/v1/login',
    );
  }
  request.user = user;
  return user;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * The bearer token must be `expected`, the value of the variable `name` (constant-time
 * compare): missing → 401, wrong → 403; while the variable is unset every token is wrong.
 */
export function requireToken(
  request: FastifyRequest,
  expected: string | undefined,
  name: string,
): void {
  const token = bearer(request);
  if (!token) throw new DomainError(401, 'UNAUTHORIZED', `send Authorization: Bearer <${name}>`);
  if (!expected) {
    throw new DomainError(
      403,
      'FORBIDDEN',
      `${name} is not set: nothing is served here until it is`,
    );
  }
  if (!timingSafeEqual(digest(token), digest(expected))) {
    throw new DomainError(403, 'FORBIDDEN', `the token is wrong; use the value of ${name}`);
  }
}

/**
 * An onRequest hook for `requireToken`, with failures counted per client address: past
 * `maxFailures` a minute every request from that address is a 429, before its token is looked
 * at (so guessing stops). Each gate keeps its own count.
 */
export function tokenGate(
  app: FastifyInstance,
  expected: string | undefined,
  name: string,
  maxFailures: number,
) {
  const failures = failureLimit(
    app,
    maxFailures,
    'requests without the right token from this address',
  );
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    await failures?.check(request, reply);
    try {
      requireToken(request, expected, name);
    } catch (err) {
      await failures?.failed(request);
      throw err;
    }
  };
}
