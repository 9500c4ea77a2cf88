/**
 * Signing and verifying minipay's webhooks (docs/webhooks.md).
 *
 * Header: `Minipay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
 * the scheme Stripe uses (stripe-node `src/Webhooks.ts`): the timestamp is signed, so a captured
 * request cannot be replayed outside the tolerance window, and several `v1` values may be sent
 * while a secret is being rotated. Every compare is constant-time.
 *
 * This file has no dependencies beyond `node:crypto`: merchants import it as `minipay/webhooks`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_SIGNATURE_HEADER = 'minipay-signature';
export const WEBHOOK_EVENT_ID_HEADER = 'minipay-event-id';
export const WEBHOOK_EVENT_TYPE_HEADER = 'minipay-event-type';
/** How far the signed timestamp may be from the receiver's clock (5 minutes, as Stripe). */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/** Why a signature was refused; stable strings a receiver can log or branch on. */
export type WebhookVerifyFailure =
  | 'missing_header'
  | 'malformed_header'
  | 'no_secret'
  | 'timestamp_outside_tolerance'
  | 'signature_mismatch';

export type WebhookVerifyResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: WebhookVerifyFailure; message: string };

export interface WebhookVerifyOptions {
  /** Seconds either side of now; default 300. Must be positive: a check is never skipped. */
  toleranceSeconds?: number;
  /** The receiver's clock (for tests); default `Date.now()`. */
  now?: Date | number;
}

/** The error `parseWebhookEvent` throws; `reason` is the typed failure. */
export class WebhookSignatureError extends Error {
  override readonly name = 'WebhookSignatureError';
  constructor(
    readonly reason: WebhookVerifyFailure | 'invalid_body',
    message: string,
  ) {
    super(message);
  }
}

type RawBody = string | Uint8Array;

function hmacHex(secret: string, timestamp: number, rawBody: RawBody): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(rawBody);
  return mac.digest('hex');
}

function secretList(secret: string | readonly string[]): string[] {
  return (typeof secret === 'string' ? [secret] : [...secret]).filter((s) => s.length > 0);
}

/**
 * The `Minipay-Signature` header for a body: one `v1` per secret (pass the new and the old
 * secret while rotating). `timestamp` is unix seconds.
 *
 * @example
 * const header = signWebhook(process.env.MINIPAY_WEBHOOK_SECRET!, body, Math.floor(Date.now() / 1000));
 */
export function signWebhook(
  secret: string | readonly string[],
  rawBody: RawBody,
  timestamp: number,
): string {
  const secrets = secretList(secret);
  if (secrets.length === 0) throw new TypeError('signWebhook needs a non-empty secret');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError('signWebhook: timestamp must be whole unix seconds');
  }
  return [`t=${timestamp}`, ...secrets.map((s) => `v1=${hmacHex(s, timestamp, rawBody)}`)].join(
    ',',
  );
}

interface ParsedHeader {
  timestamp: number;
  signatures: string[];
}

function parseHeader(header: string): ParsedHeader | null {
  let timestamp: number | null = null;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (!/^\d{1,12}$/.test(value) || timestamp !== null) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (/^[0-9a-f]{64}$/i.test(value)) signatures.push(value.toLowerCase());
    }
    // Other schemes (v0, future v2) are ignored, as Stripe does.
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}

function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function fail(reason: WebhookVerifyFailure, message: string): WebhookVerifyResult {
  return { ok: false, reason, message };
}

/**
 * Checks a `Minipay-Signature` header against the raw request body (the exact bytes received,
 * never a re-serialised object). `secret` may be a list (accept the old and the new one while
 * rotating). Any `v1` in the header that matches any secret passes.
 *
 * @example
 * const result = verifyWebhookSignature(secret, req.headers['minipay-signature'], rawBody);
 * if (!result.ok) return res.status(400).send(result.message);
 */
export function verifyWebhookSignature(
  secret: string | readonly string[],
  header: string | readonly string[] | undefined,
  rawBody: RawBody,
  options: WebhookVerifyOptions = {},
): WebhookVerifyResult {
  const tolerance = options.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS;
  if (!(tolerance > 0)) throw new TypeError('toleranceSeconds must be positive');
  if (typeof rawBody !== 'string' && !(rawBody instanceof Uint8Array)) {
    throw new TypeError(
      'verifyWebhookSignature needs the raw body (string or Buffer) exactly as received, not a parsed object',
    );
  }
  const secrets = secretList(secret);
  if (secrets.length === 0) {
    return fail('no_secret', 'no webhook secret configured: set the one minipay signs with');
  }
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string' || value.length === 0) {
    return fail('missing_header', 'no Minipay-Signature header on the request');
  }
  const parsed = parseHeader(value);
  if (!parsed) {
    return fail('malformed_header', 'Minipay-Signature must look like t=<unix>,v1=<hex>');
  }
  const nowMs = options.now === undefined ? Date.now() : Number(options.now);
  const skew = Math.abs(Math.floor(nowMs / 1000) - parsed.timestamp);
  if (skew > tolerance) {
    return fail(
      'timestamp_outside_tolerance',
      `signed ${skew} s away from this clock (tolerance ${tolerance} s): check the clock, or it is a replay`,
    );
  }
  let matched = false;
  for (const s of secrets) {
    const expected = hmacHex(s, parsed.timestamp, rawBody);
    // No early exit: every candidate is compared, whatever matched before.
    for (const sig of parsed.signatures) matched = sameHex(expected, sig) || matched;
  }
  if (!matched) {
    return fail(
      'signature_mismatch',
      'signature does not match: check the secret and that the body is the raw bytes received',
    );
  }
  return { ok: true, timestamp: parsed.timestamp };
}

/**
 * Verifies, then parses the event. Throws `WebhookSignatureError` (with a typed `reason`) when
 * the signature or the body is not acceptable; answer 400 then, and 2xx only once stored.
 */
export function parseWebhookEvent<E = unknown>(
  secret: string | readonly string[],
  header: string | readonly string[] | undefined,
  rawBody: RawBody,
  options: WebhookVerifyOptions = {},
): E {
  const result = verifyWebhookSignature(secret, header, rawBody, options);
  if (!result.ok) throw new WebhookSignatureError(result.reason, result.message);
  const text = typeof rawBody === 'string' ? rawBody : Buffer.from(rawBody).toString('utf8');
  try {
    return JSON.parse(text) as E;
  } catch {
    throw new WebhookSignatureError('invalid_body', 'the signed body is not valid JSON');
  }
}
