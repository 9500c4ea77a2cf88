/**
 * The access_token of the sandbox's mini program platform: `POST /cgi-bin/stable_token`
 * issues it and every other platform path checks it (docs/sandbox.md, "Mini program
 * platform"). As WeChat documents getStableAccessToken: a token lasts 7200 s; normal mode
 * hands back the current token and issues the next one only in its last 5 minutes (both work
 * meanwhile); `force_refresh` revokes every token, at most 20 times a Beijing day (then
 * 45009), and a forced call within 30 s of the last one returns the current token unchanged.
 * A revoked or unknown token is refused with 40001, an expired one with 42001.
 */
import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from '../../wechatpay/index.js';
import type { SandboxCore } from '../core.js';
import type { AccessTokenRow } from '../state/platform-store.js';
import { isObject, ok, type PlatformAnswer, refuse } from './answers.js';

export const TOKEN_LIFETIME_MS = 7200_000;
/** WeChat issues the next token this long before the current one expires. */
export const TOKEN_OVERLAP_MS = 300_000;
export const FORCED_PER_DAY = 20;
export const FORCED_MIN_GAP_MS = 30_000;

const BEIJING_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** Midnight Beijing time of the day `now` falls in, epoch ms. */
function beijingDayStart(now: number): number {
  return now - ((now + BEIJING_OFFSET_MS) % DAY_MS);
}

/** `POST /cgi-bin/stable_token`. */
export function stableToken(core: SandboxCore, body: unknown): PlatformAnswer {
  if (!isObject(body)) refuse(47001, 'data format error');
  const { grant_type: grantType, appid, secret, force_refresh: force } = body;
  if (grantType !== 'client_credential') refuse(40002, 'invalid grant_type');
  if (typeof appid !== 'string' || appid === '') refuse(41002, 'appid missing');
  if (appid !== core.credentials.appId) refuse(40013, 'invalid appid');
  if (typeof secret !== 'string' || secret === '') refuse(41004, 'appsecret missing');
  if (!constantTimeEqual(secret, core.credentials.appSecret)) {
    refuse(40125, 'invalid appsecret');
  }
  if (force !== undefined && typeof force !== 'boolean') {
    refuse(47001, 'data format error: force_refresh must be a boolean');
  }
  const now = core.clock.now();
  const store = core.state.platform;
  const current = store.currentToken(now);
  const token = force === true ? forced(core, now, current) : normal(core, now, current);
  return ok({ access_token: token.token, expires_in: Math.floor((token.expires_at - now) / 1000) });
}

function normal(core: SandboxCore, now: number, current: AccessTokenRow | undefined) {
  if (current && current.expires_at - now > TOKEN_OVERLAP_MS) return current;
  return issue(core, now, false);
}

function forced(core: SandboxCore, now: number, current: AccessTokenRow | undefined) {
  const store = core.state.platform;
  const counts = store.tokenCounts(beijingDayStart(now));
  if (current && counts.lastForcedAt !== null && now - counts.lastForcedAt < FORCED_MIN_GAP_MS) {
    return current;
  }
  if (counts.forced >= FORCED_PER_DAY) {
    refuse(45009, 'reach max api daily quota limit');
  }
  store.revokeTokens(now);
  return issue(core, now, true);
}

function issue(core: SandboxCore, now: number, forcedCall: boolean): AccessTokenRow {
  const row: AccessTokenRow = {
    // Real tokens are about 136 characters of this alphabet.
    token: `${randomBytes(96).toString('base64url')}`,
    issued_at: now,
    expires_at: now + TOKEN_LIFETIME_MS,
    revoked_at: null,
    forced: forcedCall ? 1 : 0,
  };
  core.state.platform.insertToken(row);
  return row;
}

/** Checks the `access_token` of a call: 41001 missing, 40001 unknown or revoked, 42001 expired. */
export function checkToken(core: SandboxCore, token: string | undefined): void {
  if (!token) refuse(41001, 'access_token missing');
  const row = core.state.platform.token(token);
  if (!row || row.revoked_at !== null) {
    refuse(40001, 'invalid credential, access_token is invalid or not latest');
  }
  if (row.expires_at <= core.clock.now()) refuse(42001, 'access_token expired');
}

/** Revokes every token now (what another system's forced refresh does to this merchant). */
export function revokeTokens(core: SandboxCore): number {
  return core.state.platform.revokeTokens(core.clock.now());
}

/** How many tokens were issued (never the tokens themselves). */
export function tokenStats(core: SandboxCore): {
  issued: number;
  forced: number;
  forcedToday: number;
  current: { issuedAt: string; expiresAt: string } | null;
} {
  const now = core.clock.now();
  const all = core.state.platform.tokenCounts(0);
  const today = core.state.platform.tokenCounts(beijingDayStart(now));
  const current = core.state.platform.currentToken(now);
  return {
    issued: all.issued,
    forced: all.forced,
    forcedToday: today.forced,
    current: current
      ? {
          issuedAt: new Date(current.issued_at).toISOString(),
          expiresAt: new Date(current.expires_at).toISOString(),
        }
      : null,
  };
}
