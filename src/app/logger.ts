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
  'webhookSecrets',
  '*.webhookSecrets',
  'secrets',
  '*.secrets',
  'merchant',
  '*.merchant',
  'paySign',
  '*.paySign',
];

/** A redacting logger; writes to stdout unless given another destination (the CLI: stderr). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'minipay' },
  };
  return destination ? pino(options, destination) : pino(options);
}
