import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  decryptReqInfo,
  encryptReqInfo,
  errCodeError,
  readPaymentNotify,
  returnFailError,
  V2_ERR_CODES,
  WECHATPAY_SETTINGS,
  WechatPayV2Client,
} from '../../src/wechatpay/index.js';
import { thrownBy } from './support.js';

const PROTOCOL_DIR = fileURLToPath(new URL('../../src/wechatpay/', import.meta.url));

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

const CLIENT = { appId: 'wx0123456789abcdef', mchId: '1900000109', key: 'k'.repeat(32) };

describe('protocol errors name settings, not the application’s environment', () => {
  test('no file of the protocol layer names an environment variable of the app', () => {
    for (const file of sourcesUnder(PROTOCOL_DIR)) {
      assert.doesNotMatch(readFileSync(file, 'utf8'), /MINIPAY_|process\.env/, file);
    }
  });

  test('err_codes of the merchant setup say which settings to check', () => {
    assert.deepEqual(errCodeError('/pay/orderquery', 'SIGNERROR').settings, ['apiKey', 'signType']);
    assert.deepEqual(errCodeError('/pay/unifiedorder', 'APPID_NOT_EXIST').settings, ['appId']);
    assert.deepEqual(errCodeError('/pay/unifiedorder', 'MCHID_NOT_EXIST').settings, ['mchId']);
    assert.deepEqual(errCodeError('/pay/unifiedorder', 'APPID_MCHID_NOT_MATCH').settings, [
      'appId',
      'mchId',
    ]);
    // A permission the merchant lacks is no setting of ours; business refusals blame none.
    assert.deepEqual(errCodeError('/pay/unifiedorder', 'NOAUTH').settings, []);
    assert.deepEqual(errCodeError('/pay/closeorder', 'ORDERPAID').settings, []);
    assert.deepEqual(errCodeError('/pay/closeorder', 'NEVER_SEEN').settings, []);
  });

  test('every setting named by V2_ERR_CODES is one of WECHATPAY_SETTINGS', () => {
    for (const [code, advice] of Object.entries(V2_ERR_CODES)) {
      const settings = advice.settings ?? [];
      for (const s of settings) assert.ok(WECHATPAY_SETTINGS.includes(s), `${code}: ${s}`);
      if (settings.length > 0) assert.equal(advice.kind, 'config', code);
    }
  });

  test('unsigned FAIL answers: a signature refusal blames the key, a setup refusal the ids', () => {
    const sign = returnFailError('/pay/orderquery', '签名错误');
    assert.deepEqual(
      [sign.kind, sign.code, sign.settings],
      ['config', 'SIGNERROR', ['apiKey', 'signType']],
    );
    assert.deepEqual(returnFailError('/secapi/pay/refund', 'mch_id参数格式错误').settings, [
      'appId',
      'mchId',
      'clientCertificate',
    ]);
    assert.deepEqual(returnFailError('/pay/orderquery', '系统繁忙').settings, []);
  });

  test('the client refuses an incomplete setup, naming the option', () => {
    const setting = (options: object) =>
      thrownBy(() => new WechatPayV2Client({ ...CLIENT, ...options })).settings;
    assert.deepEqual(setting({ appId: '' }), ['appId']);
    assert.deepEqual(setting({ mchId: 'abc' }), ['mchId']);
    assert.deepEqual(setting({ key: '' }), ['apiKey']);
    assert.deepEqual(setting({ signType: 'SHA1' }), ['signType']);
    assert.deepEqual(
      setting({ baseUrl: 'https://a.example', backupBaseUrl: 'https://a.example' }),
      ['backupBaseUrl'],
    );
    assert.deepEqual(setting({ tls: { pfx: Buffer.from('not a p12') } }), ['clientCertificate']);
  });

  test('callbacks that a wrong key would explain name the key', () => {
    const notify = thrownBy(() =>
      readPaymentNotify(
        `<xml><return_code>SUCCESS</return_code><sign>${'A'.repeat(32)}</sign></xml>`,
        { ...CLIENT, signType: 'MD5' },
      ),
    );
    assert.deepEqual(
      [notify.kind, notify.code, notify.settings],
      ['invalid', 'BAD_SIGNATURE', ['apiKey', 'signType']],
    );
    const other = encryptReqInfo('<root><out_refund_no>R1</out_refund_no></root>', 'x'.repeat(32));
    const reqInfo = thrownBy(() => decryptReqInfo(other, CLIENT.key));
    assert.deepEqual([reqInfo.code, reqInfo.settings], ['BAD_REQ_INFO', ['apiKey']]);
  });
});
