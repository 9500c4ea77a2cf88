/**
 * A route's schema as every route of the API writes it: its OpenAPI tag, the bearer scheme when
 * it needs a token, and the error answers beside its own (the contract's `{ error }` body).
 */
import type { TSchema } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../contract/index.js';

export interface RouteParts {
  summary?: string;
  params?: TSchema;
  querystring?: TSchema;
  body?: TSchema;
  response: Record<number, TSchema>;
}

const BEARER = [{ bearer: [] }];

export const routeSchema =
  (tag: string, secured: boolean) =>
  <const P extends RouteParts>(parts: P) => ({
    ...parts,
    tags: [tag],
    ...(secured && { security: BEARER }),
    response: { ...parts.response, ...errorResponses },
  });
