/**
 * A refusal the caller can act on: a stable `code`, the HTTP status the server maps it to,
 * and a message that says what to do. Anything else thrown is a bug (500, generic message).
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const notFound = (what: string) =>
  new DomainError(404, 'NOT_FOUND', `no such ${what} for this caller`);

export const validation = (message: string) => new DomainError(400, 'VALIDATION_FAILED', message);

export const wechatUnavailable = () =>
  new DomainError(
    502,
    'WECHATPAY_UNAVAILABLE',
    'WeChat Pay did not answer in time; retry with the same Idempotency-Key',
  );
