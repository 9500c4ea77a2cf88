/**
 * Every error on /api and /admin becomes `{ error: { code, message } }` (docs/http-api.md);
 * 5xx messages never carry internals, the log has the request id.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DomainError } from '../../payments/lib/errors.js';

export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
}

const BY_FASTIFY_CODE: Record<string, Omit<ErrorAnswer, 'message'> & { message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'send the body as JSON with Content-Type: application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'VALIDATION_FAILED' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'the body is empty; send a JSON object',
  },
  FST_ERR_CTP_INVALID_JSON_BODY: {
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'the body is not valid JSON',
  },
  // The router's own refusals, before any route (app.ts `frameworkErrors`).
  FST_ERR_BAD_URL: {
    status: 400,
    code: 'VALIDATION_FAILED',
    message: 'the URL is not valid (a bad percent-encoding)',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    code: 'URI_TOO_LONG',
    message: 'a part of the path is longer than 100 characters',
  },
};

const BY_STATUS: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

export function toErrorAnswer(err: FastifyError | Error): ErrorAnswer {
  if (err instanceof DomainError)
    return { status: err.status, code: err.code, message: err.message };
  const fe = err as FastifyError;
  if (fe.validation) {
    const where = fe.validationContext ?? 'request';
    return {
      status: 400,
      code: 'VALIDATION_FAILED',
      message: `${where}: ${describeValidation(fe)}`,
    };
  }
  const known = fe.code ? BY_FASTIFY_CODE[fe.code] : undefined;
  if (known) return { ...known, message: known.message ?? fe.message };
  if (err instanceof SyntaxError || fe.statusCode === 400) {
    return { status: 400, code: 'VALIDATION_FAILED', message: 'the body is not valid JSON' };
  }
  const status = fe.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return { status, code: BY_STATUS[status] ?? 'BAD_REQUEST', message: fe.message };
  }
  return {
    status: 500,
    code: 'INTERNAL',
    message: 'internal error; the server log has the request id',
  };
}

function describeValidation(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return err.message;
  const path = first.instancePath || '';
  const params = first.params as Record<string, unknown>;
  if (first.keyword === 'additionalProperties') {
    return `unknown field "${path ? `${path}/` : ''}${String(params.additionalProperty)}"`;
  }
  if (first.keyword === 'required')
    return `missing field "${path ? `${path}/` : ''}${String(params.missingProperty)}"`;
  return `${path || 'value'} ${first.message ?? 'is invalid'}`;
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: FastifyError | Error,
): FastifyReply {
  const answer = toErrorAnswer(err);
  if (answer.status >= 500) request.log.error({ err }, 'request failed');
  else request.log.info({ code: answer.code }, 'request refused');
  return reply
    .code(answer.status)
    .type('application/json; charset=utf-8')
    .send({ error: { code: answer.code, message: answer.message } });
}

/** A path no route answers: 404 `NOT_FOUND` naming it (without its query). */
export async function routeNotFound(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({
    error: {
      code: 'NOT_FOUND',
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    },
  });
}

/** Every error and unknown route answered in the API's error body. */
export function errorAnswers(app: FastifyInstance): void {
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err as Error));
  app.setNotFoundHandler(routeNotFound);
}
