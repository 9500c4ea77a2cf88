/**
 * The access_token of the mini program server APIs, from `POST /cgi-bin/stable_token`
 * (getStableAccessToken), never the old `GET /cgi-bin/token`, whose every call invalidates the
 * token other instances hold. Normal mode returns the current token while it is valid (WeChat
 * issues the next one in its last 5 minutes, both valid meanwhile); `force_refresh` revokes it
 * and is limited to 20 a day, 30 s apart (docs/miniprogram-api.md, "access_token").
 *
 * The token is a secret: `AccessToken` keeps it in a private field and prints, logs and
 * serialises as `[redacted]`. Only `value` gives it out, for the query string of a call.
 */
import { inspect } from 'node:util';
import { invalidAnswer, type Transport } from './http.js';

export class AccessToken {
  readonly #value: string;

  constructor(
    value: string,
    /** When it stops being valid, epoch milliseconds. */
    readonly expiresAt: number,
  ) {
    if (!TOKEN.test(value)) throw new TypeError('an access_token is 1..512 printable characters');
    if (!Number.isFinite(expiresAt)) throw new TypeError('expiresAt must be a time');
    this.#value = value;
  }

  /** The token itself, for `?access_token=` and for the store. Never log it. */
  get value(): string {
    return this.#value;
  }

  /** Whether `other` is the same token (the expiry may differ). */
  sameAs(other: AccessToken | undefined): boolean {
    return other !== undefined && other.#value === this.#value;
  }

  toJSON(): { accessToken: '[redacted]'; expiresAt: string } {
    return { accessToken: '[redacted]', expiresAt: new Date(this.expiresAt).toISOString() };
  }

  toString(): string {
    return '[AccessToken redacted]';
  }

  [inspect.custom](): string {
    return `AccessToken { [redacted], expiresAt: ${new Date(this.expiresAt).toISOString()} }`;
  }
}

/** WeChat asks for at least 512 characters of storage; printable ASCII, no spaces. */
const TOKEN = /^[\x21-\x7e]{1,512}$/;
const STABLE_TOKEN_PATH = '/cgi-bin/stable_token';

export interface StableTokenRequest {
  appId: string;
  appSecret: string;
  /** Revoke the current token and issue a new one (20 a day, 30 s apart). */
  forceRefresh?: boolean;
}

/** Calls getStableAccessToken once; throws `MiniProgramApiError`. */
export async function fetchStableToken(
  transport: Transport,
  request: StableTokenRequest,
): Promise<AccessToken> {
  const sentAt = transport.now();
  const json = await transport.post({
    path: STABLE_TOKEN_PATH,
    body: {
      grant_type: 'client_credential',
      appid: request.appId,
      secret: request.appSecret,
      force_refresh: request.forceRefresh === true,
    },
  });
  const { access_token: value, expires_in: expiresIn } = json;
  if (typeof value !== 'string' || !TOKEN.test(value)) {
    throw invalidAnswer(STABLE_TOKEN_PATH, 'the answer has no valid access_token');
  }
  if (typeof expiresIn !== 'number' || !Number.isInteger(expiresIn) || expiresIn < 1) {
    throw invalidAnswer(STABLE_TOKEN_PATH, 'expires_in is not a positive integer');
  }
  // Counted from when the request left: the token cannot outlive what WeChat promised.
  return new AccessToken(value, sentAt + Math.min(expiresIn, 7200) * 1000);
}
