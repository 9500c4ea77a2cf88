/** The configuration rules that come from WeChat (docs/wechat-rules.md). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';

const LIVE = {
  MINIPAY_APPID: 'wx0123456789abcdef',
  MINIPAY_APPSECRET: 'appsecret0123456789abcdef',
  MINIPAY_MCHID: '1900000109',
  MINIPAY_MCH_KEY: 'k'.repeat(32),
  MINIPAY_NOTIFY_BASE_URL: 'https://pay.example.com',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('live mode: WeChat Pay requires an https notify_url; http only on loopback (a local sandbox)', () => {
  assert.deepEqual(problems(LIVE), []);
  const plain = problems({ ...LIVE, MINIPAY_NOTIFY_BASE_URL: 'http://pay.example.com' });
  assert.equal(plain.length, 1);
  assert.match(plain[0]!, /MINIPAY_NOTIFY_BASE_URL must be https/);
  for (const local of ['http://127.0.0.1:8080', 'http://localhost:8080', 'http://[::1]:8080']) {
    assert.deepEqual(problems({ ...LIVE, MINIPAY_NOTIFY_BASE_URL: local }), [], local);
  }
  assert.deepEqual(problems({}), [], 'demo mode has no notify URL to check');
});

test('the backup domain: api2.mch.weixin.qq.com with the default main domain, none for a sandbox unless set', () => {
  assert.equal(loadConfig(LIVE).wechatPayBackupBaseUrl, 'https://api2.mch.weixin.qq.com');
  const sandbox = { ...LIVE, MINIPAY_WECHATPAY_BASE_URL: 'http://127.0.0.1:8091' };
  assert.equal(loadConfig(sandbox).wechatPayBackupBaseUrl, undefined);
  const both = { ...sandbox, MINIPAY_WECHATPAY_BACKUP_BASE_URL: 'http://127.0.0.1:8092/' };
  assert.equal(loadConfig(both).wechatPayBackupBaseUrl, 'http://127.0.0.1:8092');
  assert.match(
    problems({ ...sandbox, MINIPAY_WECHATPAY_BACKUP_BASE_URL: 'http://127.0.0.1:8091' })[0]!,
    /must differ/,
  );
  assert.match(
    problems({ ...LIVE, MINIPAY_WECHATPAY_BACKUP_BASE_URL: 'ftp://x' })[0]!,
    /MINIPAY_WECHATPAY_BACKUP_BASE_URL must be an http\(s\) URL/,
  );
});

test('the mini program API backup: api2.weixin.qq.com with the default main domain, none for a sandbox unless set', () => {
  assert.equal(loadConfig(LIVE).wechatApiBackupBaseUrl, 'https://api2.weixin.qq.com');
  const sandbox = { ...LIVE, MINIPAY_WECHAT_API_BASE_URL: 'http://127.0.0.1:8091' };
  assert.equal(loadConfig(sandbox).wechatApiBackupBaseUrl, undefined);
  const both = { ...sandbox, MINIPAY_WECHAT_API_BACKUP_BASE_URL: 'http://127.0.0.1:8092' };
  assert.equal(loadConfig(both).wechatApiBackupBaseUrl, 'http://127.0.0.1:8092');
  assert.match(
    problems({ ...sandbox, MINIPAY_WECHAT_API_BACKUP_BASE_URL: 'http://127.0.0.1:8091/' })[0]!,
    /MINIPAY_WECHAT_API_BACKUP_BASE_URL must differ from MINIPAY_WECHAT_API_BASE_URL \(WeChat: https:\/\/api2\.weixin\.qq\.com\)/,
  );
});

test("MINIPAY_REFUND_ACCOUNT takes WeChat's refund_account values", () => {
  assert.equal(loadConfig(LIVE).refundAccount, undefined);
  const recharge = { ...LIVE, MINIPAY_REFUND_ACCOUNT: 'REFUND_SOURCE_RECHARGE_FUNDS' };
  assert.equal(loadConfig(recharge).refundAccount, 'RECHARGE_FUNDS');
  assert.match(
    problems({ ...LIVE, MINIPAY_REFUND_ACCOUNT: 'BALANCE' })[0]!,
    /MINIPAY_REFUND_ACCOUNT must be REFUND_SOURCE_UNSETTLED_FUNDS or REFUND_SOURCE_RECHARGE_FUNDS/,
  );
});
