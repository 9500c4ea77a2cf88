/**
 * `minipay shipping-check` in a child process against a sandbox and a database the real server
 * made: a clean check (0), WeChat's unshipped orders minipay does not know or thinks shipped (1),
 * usage errors (2), and a check that cannot run (3).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { paidTrade } from '../../sandbox/support.js';
import { merchantEnv, minipayExit } from '../../support/cli.js';
import { type SandboxServer, startSandboxServer } from '../../support/sandbox-server.js';
import { describeOnStores } from '../../support/stores.js';

const run = (args: string[], env: Record<string, string>) =>
  minipayExit(['shipping-check', ...args], env);

/** minipay believes the order shipped (an upload WeChat never got). */
async function markUploaded(s: SandboxServer, orderId: string) {
  const now = new Date().toISOString();
  await s.server.store.db
    .insertInto('shipments')
    .values({
      id: `shp_cli_${orderId}`,
      order_id: orderId,
      kind: 'physical',
      status: 'UPLOADED',
      logistics_type: 'express',
      parcels: JSON.stringify([{ trackingNo: 'SF100', expressCompany: 'SF', itemDesc: 'tea' }]),
      upload_time: now,
      attempts: 1,
      next_attempt_at: null,
      last_error_code: null,
      last_error: null,
      uploaded_at: now,
      receipt_confirmed_at: null,
      settled_at: null,
      corrected_at: null,
      receipt_reminded_at: null,
      version: 1,
      created_at: now,
      updated_at: now,
    })
    .execute();
}

describeOnStores('minipay shipping-check', (stores) => {
  test('clean (0), then an unknown order and one shipped only in minipay (1)', async (t) => {
    const url = await stores.freshUrl();
    const s = await startSandboxServer(t, url);
    const env = merchantEnv(s, url);
    const awaiting = await s.paidOrder(1);

    const clean = await run([], env);
    assert.equal(clean.code, 0, clean.stdout + clean.stderr);
    assert.match(clean.stdout, /minipay shipping-check, last 7 day\(s\): nothing to act on/);
    assert.match(clean.stdout, /WeChat: {2}1 unshipped order\(s\) paid .* looked at/);

    const lost = await s.paidOrder(1);
    await markUploaded(s, lost.id);
    const foreign = await paidTrade(s.sandbox, 'http://127.0.0.1:9/wechatpay/v2/notify');
    const found = await run(['--days', '2'], env);
    assert.equal(found.code, 1, found.stdout + found.stderr);
    assert.match(found.stdout, /last 2 day\(s\): 2 finding\(s\)/);
    assert.match(found.stdout, /3 unshipped order\(s\)/);
    assert.match(
      found.stdout,
      new RegExp(
        `unknown_order ${foreign.outTradeNo} \\(transaction ${foreign.transactionId},.*\\): minipay has no such order`,
      ),
    );
    assert.match(
      found.stdout,
      new RegExp(
        `shipped_in_minipay ${lost.outTradeNo} \\(.*order ${lost.id},.*\\): minipay thinks it shipped`,
      ),
    );
    assert.doesNotMatch(found.stdout, new RegExp(awaiting.outTradeNo));
  });

  test('usage errors (2) and a check that cannot run (3)', async (t) => {
    const url = await stores.freshUrl();
    const s = await startSandboxServer(t, url);
    const env = merchantEnv(s, url);
    for (const days of ['0', '31', '1.5', '07']) {
      const bad = await run(['--days', days], env);
      assert.equal(bad.code, 2, `--days ${days}: ${bad.stderr}`);
      assert.match(bad.stderr, /--days must be a whole number from 1 to 30/);
    }
    const unknown = await run(['--since', '3'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Usage: minipay shipping-check/);

    const demo = await run([], { MINIPAY_DATABASE_URL: url });
    assert.equal(demo.code, 3);
    assert.match(demo.stderr, /demo mode has no WeChat to ask/);
    const partial = await run([], { MINIPAY_DATABASE_URL: url, MINIPAY_APPID: env.MINIPAY_APPID! });
    assert.equal(partial.code, 3);
    assert.match(partial.stderr, /MINIPAY_APPSECRET is not set/);

    const empty = await stores.freshUrl();
    const unmigrated = await run([], { ...env, MINIPAY_DATABASE_URL: empty });
    assert.equal(unmigrated.code, 3, unmigrated.stderr);
    assert.match(unmigrated.stderr, /minipay migrate/);

    await s.sandbox.setFaults({
      platformErrcodes: { '/wxa/sec/order/get_order_list': { '48001': 1 } },
    });
    const refused = await run([], env);
    assert.equal(refused.code, 3, refused.stdout + refused.stderr);
    assert.match(refused.stderr, /WECHAT_48001: .*check MINIPAY_WECHAT_API_BASE_URL/);
    assert.equal(refused.stdout, '');
  });
});
