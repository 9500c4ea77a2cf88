/**
 * Rate limits (docs/configuration.md "Rate limits"), with @fastify/rate-limit: counted in this
 * process's memory, so each instance counts its own. A refusal is 429 `RATE_LIMITED` with
 * `Retry-After` and the usual error body. Only the routes named here are limited: WeChat's
 * notify callbacks never are.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyContextConfig, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../payments/lib/errors.js';

/** Requests a minute (0: no limit), counted in this process's memory (docs/configuration.md). */
export interface RateLimits {
  /** POST /api/v1/login, per client address. */
  loginPerMinute: number;
  /** Admin API requests whose token is missing or wrong, per client address. */
  adminFailuresPerMinute: number;
  /** Checkout, payment parameters and cancel, per user and per route. */
  orderActionsPerMinute: number;
}

const MINUTE_MS = 60_000;

export function rateLimited(retryAfterSeconds: number, what = 'requests'): DomainError {
  return new DomainError(
    429,
    'RATE_LIMITED',
    `too many ${what}; retry in ${retryAfterSeconds} s (the Retry-After header)`,
  );
}

/** The plugin, off by default for every route; routes opt in with the configs below. */
export async function registerRateLimit(app: FastifyInstance): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) => rateLimited(Math.ceil(context.ttl / 1000)),
  });
}

/** Route config: at most `max` a minute from one client address (none when `max` is 0). */
export function perClientAddress(max: number): FastifyContextConfig {
  return max > 0 ? { rateLimit: { max, timeWindow: MINUTE_MS } } : {};
}

/** Route config: at most `max` a minute per signed-in user (`request.user`, set on onRequest). */
export function perUser(max: number): FastifyContextConfig {
  if (max === 0) return {};
  const keyGenerator = (request: FastifyRequest) => {
    if (!request.user) throw new Error('perUser limits routes that authenticate on onRequest');
    return `user:${request.user.id}`;
  };
  return { rateLimit: { max, timeWindow: MINUTE_MS, keyGenerator } };
}

/**
 * Counts failures only, per client address: `check` refuses once `max` failures happened in
 * the last minute (before any work), `failed` counts one. Null when `max` is 0.
 */
export function failureLimit(app: FastifyInstance, max: number, what: string) {
  if (max === 0) return null;
  const counter = app.createRateLimit({ max, timeWindow: MINUTE_MS });
  return {
    async check(request: FastifyRequest, reply: FastifyReply): Promise<void> {
      const seen = await counter(request, { increment: false });
      if (seen.isAllowed || seen.remaining > 0) return;
      reply.header('retry-after', seen.ttlInSeconds);
      throw rateLimited(seen.ttlInSeconds, what);
    },
    async failed(request: FastifyRequest): Promise<void> {
      await counter(request);
    },
  };
}
