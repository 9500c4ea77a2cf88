import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import Database from 'better-sqlite3';
import { startSandbox } from '../../src/sandbox/index.js';
import { SandboxState } from '../../src/sandbox/state/sandbox-state.js';
import {
  FAIL_REPLY,
  NotifyReceiver,
  paidTrade,
  prepay,
  refundOf,
  TEST_NOTIFY_FORMAT,
  until,
  v2,
} from './support.js';

function tempFile(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-sandbox-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'state.sqlite');
}

describe('state file', () => {
  test('trades, refunds, login codes, faults and the clock survive a restart', async (t) => {
    const stateFile = tempFile(t);
    const first = await startSandbox({ stateFile, seed: 5, faults: { dropNotifyRate: 0.25 } });
    const paid = await paidTrade(first, 'http://127.0.0.1:9/n', { total_fee: 700 });
    const open = await prepay(first, 'http://127.0.0.1:9/n');
    await refundOf(first, paid.outTradeNo, 'KEEP1', 200, 700);
    const { code } = first.loginCode('oKept');
    first.advanceClock(60_000);
    await first.close();

    const second = await startSandbox({ stateFile });
    t.after(() => second.close());
    assert.equal(second.trade(paid.outTradeNo)!.tradeState, 'REFUND');
    assert.equal(second.trade(paid.outTradeNo)!.refundedFen, 200);
    assert.equal(second.trade(open.outTradeNo)!.tradeState, 'NOTPAY');
    assert.equal(second.faults().seed, 5);
    assert.equal(second.faults().dropNotifyRate, 0.25);
    const q = (await v2(second, '/pay/orderquery', { transaction_id: paid.transactionId })).fields;
    assert.equal(q.trade_state, 'REFUND');
    const login = await fetch(
      `${second.url}/sns/jscode2session?appid=${second.credentials.appId}&secret=${second.credentials.appSecret}&js_code=${code}&grant_type=authorization_code`,
    );
    assert.equal(((await login.json()) as { openid: string }).openid, 'oKept');
    const clock = (await (await fetch(`${second.url}/sandbox/v1/clock`)).json()) as {
      offsetMs: number;
    };
    assert.equal(clock.offsetMs, 60_000);
    // The same prepay keeps working after the restart.
    const again = await v2(second, '/pay/unifiedorder', {
      body: 'minipay test',
      out_trade_no: open.outTradeNo,
      total_fee: 100,
      spbill_create_ip: '127.0.0.1',
      notify_url: 'http://127.0.0.1:9/n',
      trade_type: 'JSAPI',
      openid: open.openid,
    });
    assert.equal(again.fields.prepay_id, open.prepayId);
  });

  test('undelivered notifications resume after a restart, continuing the attempt count', async (t) => {
    const stateFile = tempFile(t);
    const receiver = await NotifyReceiver.start(t);
    receiver.reply = () => ({ body: FAIL_REPLY });
    const first = await startSandbox({ stateFile, timeScale: 1, notifyFormat: TEST_NOTIFY_FORMAT });
    const paid = await paidTrade(first, receiver.url);
    await until(() => first.notifications()[0]?.attemptCount === 1);
    await first.close(); // the retry 15 s later is still pending

    receiver.reply = () => ({ body: '<xml><return_code>SUCCESS</return_code></xml>' });
    const second = await startSandbox({
      stateFile,
      timeScale: 1,
      notifyFormat: TEST_NOTIFY_FORMAT,
    });
    t.after(() => second.close());
    assert.equal(second.notifications()[0]!.status, 'pending');
    second.advanceClock(15_000);
    await until(() => second.notifications()[0]?.status === 'delivered');
    const n = second.notifications()[0]!;
    assert.equal(n.outTradeNo, paid.outTradeNo);
    assert.deepEqual(
      n.attempts.map((a) => [a.attempt, a.outcome]),
      [
        [1, 'fail'],
        [2, 'success'],
      ],
    );
    assert.equal(receiver.received.length, 2);
    assert.equal(
      receiver.received[0]!.body,
      receiver.received[1]!.body,
      'the same notification, not a new one',
    );
  });

  test('a notification cut off mid-attempt (no next attempt planned) is sent again at start', async (t) => {
    const stateFile = tempFile(t);
    const receiver = await NotifyReceiver.start(t);
    // What a sandbox killed while sending leaves behind: pending, its next attempt cleared.
    const left = new SandboxState(stateFile);
    const id = left.deliveries.insert({
      kind: 'payment',
      out_trade_no: 'T-CUT-OFF',
      out_refund_no: null,
      url: receiver.url,
      body: '<xml><out_trade_no>T-CUT-OFF</out_trade_no></xml>',
      format: 'v2',
      status: 'pending',
      attempts: 1,
      next_at: null,
      created_at: Date.now(),
      delivered_at: null,
    });
    left.close();

    const sandbox = await startSandbox({ stateFile, notifyFormat: TEST_NOTIFY_FORMAT });
    t.after(() => sandbox.close());
    await receiver.waitFor(1);
    assert.equal(receiver.received[0]!.body, '<xml><out_trade_no>T-CUT-OFF</out_trade_no></xml>');
    await until(() => sandbox.notifications()[0]?.status === 'delivered');
    const n = sandbox.notifications()[0]!;
    assert.deepEqual([n.id, n.attemptCount], [id, 2]);
  });

  test('a refund due while the sandbox was down settles at start', async (t) => {
    const stateFile = tempFile(t);
    const first = await startSandbox({ stateFile, faults: { refundDelayMs: 1000 } });
    const paid = await paidTrade(first, 'http://127.0.0.1:9/n');
    await refundOf(first, paid.outTradeNo, 'LATE1', 100, 100);
    await first.close();
    const second = await startSandbox({ stateFile });
    t.after(() => second.close());
    second.advanceClock(1000);
    assert.equal(second.refund('LATE1')!.status, 'SUCCESS');
  });

  test('a state file made for another merchant is refused with a message', async (t) => {
    const stateFile = tempFile(t);
    await (await startSandbox({ stateFile })).close();
    await assert.rejects(
      startSandbox({ stateFile, credentials: { mchId: '1234567890' } }),
      /belongs to wx5a5db0c000000001\/1900000109 \(appId\/mchId\); start with those credentials or use another file/,
    );
  });

  test('APIv3 keys (platform and demo merchant) and a rotation survive a restart', async (t) => {
    const stateFile = tempFile(t);
    const first = await startSandbox({ stateFile, v3: { platformMode: 'certificate' } });
    const rotated = await first.rotateV3();
    const merchant = first.demoMerchant;
    await first.close();
    const second = await startSandbox({ stateFile, v3: { platformMode: 'certificate' } });
    t.after(() => second.close());
    assert.deepEqual(second.v3Platform(), rotated);
    assert.deepEqual(second.demoMerchant, merchant);
  });

  test('a state file of schema 1 (before APIv3) is upgraded in place, its rows kept', (t) => {
    const stateFile = tempFile(t);
    const old = new Database(stateFile);
    old.exec(`CREATE TABLE refunds (refund_id TEXT PRIMARY KEY, mch_id TEXT NOT NULL,
      out_refund_no TEXT NOT NULL, out_trade_no TEXT NOT NULL, transaction_id TEXT NOT NULL,
      total_fee INTEGER NOT NULL, refund_fee INTEGER NOT NULL, refund_desc TEXT,
      refund_account TEXT NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL, notify_url TEXT,
      params TEXT NOT NULL, created_at INTEGER NOT NULL, settle_at INTEGER NOT NULL,
      outcome TEXT NOT NULL, settled_at INTEGER, recv_account TEXT NOT NULL,
      UNIQUE (mch_id, out_refund_no));
    CREATE TABLE deliveries (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
      out_trade_no TEXT NOT NULL, out_refund_no TEXT, url TEXT NOT NULL, body TEXT NOT NULL,
      status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER,
      created_at INTEGER NOT NULL, delivered_at INTEGER);
    INSERT INTO deliveries (kind, out_trade_no, url, body, status, attempts, created_at)
      VALUES ('payment', 'T-OLD', 'http://127.0.0.1:9/n', '<xml/>', 'delivered', 1, 1);`);
    old.pragma('user_version = 1');
    old.close();
    const state = new SandboxState(stateFile);
    t.after(() => state.close());
    assert.equal(state.deliveries.all()[0]?.format, 'v2');
    const check = new Database(stateFile, { readonly: true });
    t.after(() => check.close());
    assert.equal(check.pragma('user_version', { simple: true }), 2);
    const columns = check.prepare('PRAGMA table_info(refunds)').all() as { name: string }[];
    assert.ok(columns.some((c) => c.name === 'api'));
  });

  test('a state file from a newer minipay is refused, not rewritten', async (t) => {
    const stateFile = tempFile(t);
    const db = new Database(stateFile);
    db.pragma('user_version = 99');
    db.close();
    await assert.rejects(startSandbox({ stateFile }), /written by a newer minipay \(schema 99\)/);
  });

  test('bad options are refused before anything starts', async () => {
    await assert.rejects(startSandbox({ timeScale: 0 }), /timeScale must be a number above 0/);
    await assert.rejects(startSandbox({ timeScale: Number.NaN }), /timeScale/);
    await assert.rejects(startSandbox({ notifyTimeoutMs: 0 }), /notifyTimeoutMs must be above 0/);
    await assert.rejects(startSandbox({ closeMinAgeMs: -1 }), /closeMinAgeMs/);
    await assert.rejects(startSandbox({ refundNotifyUrl: 'ftp://x' }), /refundNotifyUrl/);
    await assert.rejects(
      startSandbox({ credentials: { appId: 'wxNOPE' } }),
      /appId must be "wx" followed by 16/,
    );
    await assert.rejects(
      startSandbox({ faults: { dropNotifyRate: 3 } }),
      /dropNotifyRate must be a number from 0 to 1/,
    );
  });
});
