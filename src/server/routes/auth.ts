/** Bearer-token checks: a mini program session, or the admin token (constant-time compare). */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../../payments/errors.js';
import type { LoginService, SessionUser } from '../../payments/login-service.js';

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

export function requireAdmin(request: FastifyRequest, adminToken: string | undefined): void {
  const token = bearer(request);
  if (!token) {
    throw new DomainError(401, 'UNAUTHORIZED', 'send Authorization: Bearer <MINIPAY_ADMIN_TOKEN>');
  }
  if (!adminToken || !timingSafeEqual(digest(token), digest(adminToken))) {
    throw new DomainError(
      403,
      'FORBIDDEN',
      'the admin token is wrong; use the value of MINIPAY_ADMIN_TOKEN',
    );
  }
}
