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

/**
 * WeChat's answer came but failed its signature check (GatewayError `unverified`): nothing in it
 * was used and nothing was written, so the same request can be made again once the server's
 * verification key (or clock) is put right. `what` names the call, e.g. `the prepay answer`.
 */
export const wechatUnverified = (what: string, code: string, retry: string) =>
  new DomainError(
    502,
    'WECHATPAY_UNVERIFIED',
    `${what} from WeChat Pay failed verification (${code}) and was not used: the server's WeChat Pay public key and its id, or its platform certificates, or its clock are wrong (the operator's log says which); ${retry}`,
  );
