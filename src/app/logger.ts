/**
 * pino with the secrets redacted wherever they could appear in a log line, and every logged
 * error that a WeChat setting explains carrying `advice`: which of minipay's environment
 * variables to check (setting-advice.ts; the protocol layer names only its own options).
 */
import pino, { type Logger } from 'pino';
import { settingAdvice } from './setting-advice.js';

/** Names whose value is a secret, wherever a log line has them: top level or one level down. */
export const SECRET_NAMES = [
  'authorization',
  'token',
  'sessionKey',
  'session_key',
  'mchKey',
  'appSecret',
  'adminToken',
  'webhookSecrets',
  'secrets',
  'merchant',
  'paySign',
  'apiV3Key',
  'privateKeyPem',
  'wechatpayV3',
] as const;

/** What pino's own redaction covers: the top-level names and a request's headers. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  ...SECRET_NAMES,
];

const CENSOR = '[redacted]';
const SECRET = new Set<string>(SECRET_NAMES);

/**
 * The secrets one level down (`config.appSecret`, `err.token`), which pino would redact as
 * wildcard paths (`*.appSecret`). Its redaction runs a wildcard path over every value of every
 * line: 14 of them cost 18–21 µs a line against 2.4 µs without (a request line, measured with
 * pino 10.4 / @pinojs/redact 0.4), more than the rest of a payment notify's logging. This looks
 * at each value's own names once, and copies only a value that has a secret. It sees what a
 * line logs, not a child logger's bindings: bind primitives only (pino redacts their top-level
 * secret names).
 */
function censorNested(obj: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key in obj) {
    const value = obj[key];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const censored = censorOwn(value as Record<string, unknown>);
    if (censored !== value) {
      out ??= { ...obj };
      out[key] = censored;
    }
  }
  return out ?? obj;
}

/** `value` with its own secret names censored; `value` itself when it has none. */
function censorOwn(value: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const name in value) {
    if (SECRET.has(name) && Object.hasOwn(value, name) && value[name] !== undefined) {
      out ??= value instanceof Error ? errorFields(value) : { ...value };
      out[name] = CENSOR;
    }
  }
  return out ?? value;
}

/** An error's fields as pino's serializer reads them, so a copy still serializes as the error. */
function errorFields(err: Error): Record<string, unknown> {
  const copy = Object.create(Object.getPrototypeOf(err) as object) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(err)) {
    copy[name] = (err as unknown as Record<string, unknown>)[name];
  }
  return copy;
}

/** A redacting logger; writes to stdout unless given another destination (the CLI: stderr). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: CENSOR },
    formatters: { log: censorNested },
    base: { service: 'minipay' },
    serializers: { err: serializeError },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** pino's error serializer, plus `advice` when a setting explains the error. */
function serializeError(err: Error): Record<string, unknown> {
  const advice = settingAdvice(err);
  const serialized = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  return advice === undefined ? serialized : { ...serialized, advice };
}
