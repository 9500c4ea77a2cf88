/** The app's logger: an error a WeChat setting explains says which variable to check. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../src/app/logger.js';
import { toGatewayError } from '../../src/payments/gateway/wechatpay-v2-gateway.js';
import { errCodeError } from '../../src/wechatpay/index.js';

function logged(write: (logger: ReturnType<typeof createLogger>) => void) {
  const lines: string[] = [];
  write(createLogger('info', { write: (line: string) => lines.push(line) }));
  return JSON.parse(lines[0]!) as { err?: { code?: string; advice?: string; message?: string } };
}

test('a domain error caused by a setting carries advice in the variables minipay reads', () => {
  const err = toGatewayError(errCodeError('unifiedorder', 'SIGNERROR'));
  const line = logged((logger) => logger.error({ err }, 'unifiedorder refused the merchant setup'));
  assert.equal(line.err?.code, 'SIGNERROR');
  assert.match(line.err?.advice ?? '', /^check MINIPAY_MCH_KEY/);
  assert.doesNotMatch(line.err?.message ?? '', /MINIPAY_/, 'the protocol layer names no variable');
});

test('an error no setting explains has no advice', () => {
  const line = logged((logger) => logger.warn({ err: new Error('disk full') }, 'x'));
  assert.equal(line.err?.message, 'disk full');
  assert.equal(line.err?.advice, undefined);
});

test('APIv3 secrets are redacted wherever a configuration or its parts are logged', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(line) });
  const v3 = { privateKeyPem: 'PRIVATE-PEM', certSerial: 'ABC', apiV3Key: 'V3KEY' };
  logger.info({ config: { wechatpayV3: v3 } }, 'a');
  logger.info({ wechatpayV3: v3 }, 'b');
  logger.info({ credentials: v3 }, 'c');
  for (const line of lines) {
    assert.doesNotMatch(line, /PRIVATE-PEM|V3KEY/, line);
  }
});

test('secrets one level down are redacted in objects and errors; the caller’s objects are untouched', () => {
  const lines: string[] = [];
  const logger = createLogger('info', { write: (line: string) => lines.push(line) });
  const err = Object.assign(new Error('refused'), { token: 'SECRET-1', code: 'X' });
  const config = { appSecret: 'SECRET-2', appid: 'wx1' };
  logger.error({ err, config, token: 'SECRET-3', paySign: 'SECRET-4' }, 'a');
  logger.child({ adminToken: 'SECRET-5' }).info({ headers: { authorization: 'SECRET-6' } }, 'b');
  const joined = lines.join('');
  assert.doesNotMatch(joined, /SECRET-/, joined);
  const [a] = lines.map((l) => JSON.parse(l));
  assert.equal(a.err.message, 'refused');
  assert.equal(a.err.code, 'X');
  assert.equal(a.err.type, 'Error');
  assert.equal(a.config.appid, 'wx1');
  assert.equal(err.token, 'SECRET-1', 'the logged error itself keeps its fields');
  assert.equal(config.appSecret, 'SECRET-2', 'the logged object itself keeps its fields');
});
