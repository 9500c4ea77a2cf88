/**
 * pino with the secrets redacted wherever they could appear in a log line, and every logged
 * error that a WeChat setting explains carrying `advice`: which of minipay's environment
 * variables to check (setting-advice.ts; the protocol layer names only its own options).
 */
import pino, { type Logger } from 'pino';
import { settingAdvice } from './setting-advice.js';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'token',
  '*.token',
  'sessionKey',
  '*.sessionKey',
  'session_key',
  '*.session_key',
  'mchKey',
  '*.mchKey',
  'appSecret',
  '*.appSecret',
  'adminToken',
  '*.adminToken',
  'webhookSecrets',
  '*.webhookSecrets',
  'secrets',
  '*.secrets',
  'merchant',
  '*.merchant',
  'paySign',
  '*.paySign',
  'apiV3Key',
  '*.apiV3Key',
  'privateKeyPem',
  '*.privateKeyPem',
  'wechatpayV3',
  '*.wechatpayV3',
];

/** A redacting logger; writes to stdout unless given another destination (the CLI: stderr). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
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
