/**
 * How the sandbox's own API refuses: `{ error: { code, message } }` with an HTTP status, as
 * docs/sandbox.md says. Schema refusals (api-schemas.ts) read "<field> must be <its
 * description>"; Fastify's body errors, the sandbox's refusals (ApiError), the payer's
 * (UserPaymentError), fault settings (FaultsError) and WeChat's business rules (V2Refusal)
 * each map to their status here; anything else is a 500 that says only "see the log".
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FaultsError } from '../faults.js';
import { UserPaymentError } from '../user-payment.js';
import { V2Refusal } from '../v2-endpoint.js';

/** JSON bodies of the sandbox API are small; 16 KiB is plenty. */
export const SANDBOX_API_MAX_BODY_BYTES = 16 * 1024;

/** An API error with its HTTP status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function notFound(what: string): ApiError {
  return new ApiError(404, 'NOT_FOUND', `${what} does not exist in this sandbox`);
}

/** `value`, unless it is undefined: then a 404 saying that `what` does not exist. */
export function found<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw notFound(what);
  return value;
}

/** A business rule of WeChat refused the request: 409 for state, 422 for amounts. */
function refusal(err: V2Refusal): ApiError {
  if (err.errCode === 'ORDERNOTEXIST') {
    return new ApiError(404, 'NOT_FOUND', 'no such trade in this sandbox');
  }
  const status = ['ERROR', 'INVALID_REQUEST', 'REFUND_FEE_MISMATCH'].includes(err.errCode)
    ? 422
    : 409;
  return new ApiError(status, err.errCode, err.errCodeDes);
}

/** Fastify's refusals of a body it could not read. */
const BODY_ERRORS: Readonly<Record<string, ApiError>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: new ApiError(
    413,
    'PAYLOAD_TOO_LARGE',
    `the body is larger than ${SANDBOX_API_MAX_BODY_BYTES} bytes`,
  ),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: new ApiError(
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'send JSON with Content-Type: application/json',
  ),
};

function toApiError(err: FastifyError | Error): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof UserPaymentError) return new ApiError(err.status, err.code, err.message);
  if (err instanceof FaultsError) return new ApiError(400, 'VALIDATION_FAILED', err.message);
  if (err instanceof V2Refusal) return refusal(err);
  const fe = err as FastifyError;
  if (fe.validation) return new ApiError(400, 'VALIDATION_FAILED', validationMessage(fe));
  const known = fe.code ? BODY_ERRORS[fe.code] : undefined;
  if (known) return known;
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new ApiError(400, 'VALIDATION_FAILED', 'the body is not valid JSON');
  }
  return undefined;
}

interface SchemaIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
  /** The schema holding the failed keyword (Ajv's `verbose` option). */
  parentSchema?: { description?: string; properties?: Record<string, unknown> };
}

/** The first schema refusal in the sandbox's words. */
function validationMessage(err: FastifyError): string {
  const issue = err.validation?.[0] as SchemaIssue | undefined;
  if (!issue) return err.message;
  const field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
  if (issue.keyword === 'additionalProperties') {
    const unknown = String(issue.params.additionalProperty).slice(0, 40);
    const expected = Object.keys(issue.parentSchema?.properties ?? {});
    return `unknown field "${unknown}"; expected ${expected.length ? expected.join(', ') : 'none'}`;
  }
  if (issue.keyword === 'required') return `${String(issue.params.missingProperty)} is required`;
  if (!field) return 'the body must be a JSON object';
  const rule = issue.parentSchema?.description;
  return rule ? `${field} must be ${rule}` : `${field} ${issue.message ?? 'is invalid'}`;
}

/** The error handler of the sandbox API's scope. */
export function sendApiError(
  err: FastifyError | Error,
  _request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const known = toApiError(err);
  if (!known) reply.log.error({ err }, 'sandbox API failure');
  const { status, code, message } =
    known ?? new ApiError(500, 'INTERNAL', 'the sandbox failed; see its log');
  return reply.code(status).send({ error: { code, message } });
}
