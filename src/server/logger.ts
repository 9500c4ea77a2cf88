/** pino with the secrets redacted wherever they could appear in a log line. */
import pino, { type Logger } from 'pino';

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
  'merchant',
  '*.merchant',
  'paySign',
  '*.paySign',
];

export function createLogger(level: string): Logger {
  return pino({
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'minipay' },
  });
}
