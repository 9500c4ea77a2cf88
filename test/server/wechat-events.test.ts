/**
 * `/wechat/v1/events` over loopback: the sandbox (playing WeChat) pushes the settlement of an
 * order the buyer confirmed, in safe mode, JSON and XML; and every hostile push is refused with
 * a clear error and writes nothing, on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PushConfig } from '../../src/app/config.js';
import { buildPush, pushUrlCheck } from '../../src/miniprogram-api/index.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const EVENTS = '/wechat/v1/events';
const FAST = { retryBaseMs: 20, retryCapMs: 100, maxAttempts: 4 };

async function shippedOrder(demo: Demo) {
  const { token, openid } = await demo.login();
  const { order, payment } = await checkout(demo, token, 'prd_tea_cup', 1);
  demo.sandbox.pay({ openid, ...payment });
  const shipping = demo.launched.server.payments.shipping!;
  await eventually(async () => (await shipping.shipment(order.id)) !== null);
  const shipped = await shipping.ship(order.id, {
    logisticsType: 'express',
    parcels: [{ trackingNo: 'ZT1', expressCompany: 'ZTO' }],
  });
  assert.equal(shipped.status, 'UPLOADED');
  await demo.sandbox.pushes(); // the shipped-stage push has arrived
  const row = await demo.launched.server.store.db
    .selectFrom('orders')
    .select(['transaction_id'])
    .where('id', '=', order.id)
    .executeTakeFirstOrThrow();
  return { order, openid, transactionId: row.transaction_id! };
}

async function counts(demo: Demo) {
  const db = demo.launched.server.store.db;
  const pushes = await db
    .selectFrom('wechat_pushes')
    .select(db.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  const events = await db
    .selectFrom('order_events')
    .select(db.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return { pushes: Number(pushes.n), events: Number(events.n) };
}

function push(
  demo: Demo,
  message: Record<string, unknown>,
  change: Partial<PushConfig & { timestamp: number; appId: string; token: string }> = {},
) {
  const config = demo.launched.config.push!;
  return buildPush(message, {
    token: change.token ?? config.token,
    appId: change.appId ?? demo.sandbox.credentials.appId,
    format: change.format ?? config.format,
    ...((change.encodingAesKey ?? config.encodingAesKey) && {
      encodingAesKey: change.encodingAesKey ?? config.encodingAesKey,
    }),
    timestamp: change.timestamp ?? Math.floor(Date.now() / 1000),
    nonce: String(Math.floor(Math.random() * 1e9)),
  });
}

async function send(
  demo: Demo,
  built: { query: Record<string, string>; body: string | Buffer; contentType: string },
  query?: string,
) {
  const res = await fetch(`${demo.url}${EVENTS}?${query ?? new URLSearchParams(built.query)}`, {
    method: 'POST',
    headers: { 'content-type': built.contentType },
    body: built.body,
  });
  const text = await res.text();
  return {
    status: res.status,
    text,
    code: res.status === 200 ? null : (JSON.parse(text) as { error: { code: string } }).error.code,
  };
}

function settlement(transactionId: string, outTradeNo: string, mchId: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    ToUserName: 'gh_000000000001',
    FromUserName: 'o7esq5OI1Uyc8SpPJ2NHJ8z2sS7Q',
    CreateTime: now,
    MsgType: 'event',
    Event: 'trade_manage_order_settlement',
    transaction_id: transactionId,
    merchant_id: mchId,
    merchant_trade_no: outTradeNo,
    pay_time: now - 60,
    shipped_time: now - 30,
    confirm_receive_method: 2,
    confirm_receive_time: now,
    settlement_time: now,
  };
}

describeOnStores('WeChat message push', (stores) => {
  for (const format of ['json', 'xml'] as const) {
    test(`the buyer confirms receipt in the sandbox: the settlement push (${format}) settles the order`, async (t) => {
      const env: Record<string, string> =
        format === 'xml'
          ? {
              MINIPAY_PUSH_TOKEN: 'xmlPushToken9',
              MINIPAY_PUSH_ENCODING_AES_KEY: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
              MINIPAY_PUSH_FORMAT: 'xml',
            }
          : {};
      const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST, env });
      const { order } = await shippedOrder(demo);
      const confirm = await fetch(`${demo.sandbox.url}/sandbox/v1/confirm-receipt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ outTradeNo: order.outTradeNo }),
      });
      assert.equal(confirm.status, 200);
      const shipping = demo.launched.server.payments.shipping!;
      await eventually(async () => (await shipping.shipment(order.id))?.settledAt !== null);
      const shipment = (await shipping.shipment(order.id))!;
      assert.ok(shipment.receiptConfirmedAt);
      const pushes = await demo.sandbox.pushes();
      assert.deepEqual(
        pushes.map((p) => p.status),
        ['delivered', 'delivered'],
        'shipped, settled',
      );
      const db = demo.launched.server.store.db;
      const recorded = await db
        .selectFrom('wechat_pushes')
        .select(['event', 'outcome'])
        .orderBy('received_at')
        .execute();
      assert.deepEqual(recorded.map((r) => r.outcome).sort(), ['applied', 'recorded']);
      const types = (
        await db
          .selectFrom('order_events')
          .select('type')
          .where('order_id', '=', order.id)
          .orderBy('seq')
          .execute()
      ).map((r) => r.type);
      assert.deepEqual(types.slice(-3), [
        'order.shipped',
        'order.receipt_confirmed',
        'order.settled',
      ]);
    });
  }

  test('the URL check answers echostr only to the right signature', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
    const token = demo.launched.config.push!.token;
    const query = pushUrlCheck(token, {
      timestamp: 1714036504,
      nonce: '1514711492',
      echostr: '4375120948345356249',
    });
    const ok = await fetch(`${demo.url}${EVENTS}?${new URLSearchParams(query)}`);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), '4375120948345356249');
    const forged = await fetch(
      `${demo.url}${EVENTS}?${new URLSearchParams({ ...query, signature: 'a'.repeat(40) })}`,
    );
    assert.equal(forged.status, 401);
    const bad = await fetch(
      `${demo.url}${EVENTS}?${new URLSearchParams({ ...query, echostr: '<script>' })}`,
    );
    assert.equal(bad.status, 400);
  });

  test('hostile pushes are refused with a clear error and write nothing; a replay acts once', async (t) => {
    const demo = await startDemo(t, await stores.freshUrl(), { shipping: FAST });
    const { order, transactionId } = await shippedOrder(demo);
    const mchId = demo.sandbox.credentials.mchId;
    const message = settlement(transactionId, order.outTradeNo, mchId);
    const before = await counts(demo);
    const genuine = push(demo, message);
    const plainConfig = demo.launched.config.push!;
    const cases: [
      string,
      () => Promise<{ status: number; code: string | null }>,
      number,
      string | RegExp,
    ][] = [
      [
        'signed with another token',
        () => send(demo, push(demo, message, { token: 'otherToken1' })),
        401,
        'PUSH_BAD_SIGNATURE',
      ],
      [
        'plain while safe mode is configured',
        () =>
          send(
            demo,
            buildPush(message, {
              token: plainConfig.token,
              appId: demo.sandbox.credentials.appId,
              format: 'json',
              timestamp: Math.floor(Date.now() / 1000),
              nonce: '1',
            }),
          ),
        400,
        'PUSH_NOT_ENCRYPTED',
      ],
      [
        'encrypted with another key',
        () => send(demo, push(demo, message, { encodingAesKey: 'B'.repeat(43) })),
        400,
        // Another key decrypts to random bytes: about 1 time in 256 they end in a valid
        // one-byte padding, and the layout check refuses them instead.
        /^PUSH_BAD_(PADDING|LAYOUT)$/,
      ],
      [
        'for another AppID',
        () => send(demo, push(demo, message, { appId: 'wx0000000000000000' })),
        400,
        'PUSH_WRONG_APPID',
      ],
      [
        'a parameter given twice',
        () => send(demo, genuine, `${new URLSearchParams(genuine.query)}&nonce=2`),
        400,
        'PUSH_BAD_PARAMETER',
      ],
      [
        'no timestamp',
        () => {
          const q = new URLSearchParams(genuine.query);
          q.delete('timestamp');
          return send(demo, genuine, String(q));
        },
        400,
        'PUSH_MISSING_PARAMETER',
      ],
      [
        'ten minutes old, signed',
        () => send(demo, push(demo, message, { timestamp: Math.floor(Date.now() / 1000) - 600 })),
        400,
        'PUSH_TOO_OLD',
      ],
      [
        'larger than 64 KiB',
        () => send(demo, { ...genuine, body: `{"Encrypt":"${'A'.repeat(70_000)}"}` }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [
        'not UTF-8',
        () => send(demo, { ...genuine, body: Buffer.from([0xff, 0xfe]) }),
        400,
        'PUSH_NOT_UTF8',
      ],
      [
        'XML to a JSON endpoint',
        () => send(demo, push(demo, message, { format: 'xml' })),
        400,
        'PUSH_MALFORMED_MESSAGE',
      ],
      [
        'a trade event without its ids',
        () => send(demo, push(demo, { ...message, transaction_id: undefined })),
        400,
        'PUSH_MALFORMED_MESSAGE',
      ],
      [
        'a body that is not JSON',
        () => send(demo, { ...genuine, body: '{"Encrypt": ' }),
        400,
        'PUSH_MALFORMED_MESSAGE',
      ],
    ];
    for (const [what, call, status, code] of cases) {
      const res = await call();
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res)}`);
      if (typeof code === 'string') assert.equal(res.code, code, what);
      else assert.match(res.code ?? '', code, what);
    }
    assert.deepEqual(await counts(demo), before, 'nothing recorded, no event');

    const first = await send(demo, genuine);
    assert.deepEqual([first.status, first.text], [200, 'success']);
    const again = await send(demo, genuine);
    assert.deepEqual([again.status, again.text], [200, 'success'], 'a repeat is acknowledged');
    const after = await counts(demo);
    assert.equal(after.pushes, before.pushes + 1, 'recorded once');
    assert.equal(after.events, before.events + 2, 'receipt_confirmed and settled, once');

    const unknown = await send(
      demo,
      push(demo, settlement('4200000000000000000000000000', 'T0', mchId)),
    );
    assert.equal(unknown.status, 200, 'acknowledged: WeChat would retry forever');
    const row = await demo.launched.server.store.db
      .selectFrom('wechat_pushes')
      .select('outcome')
      .where('transaction_id', '=', '4200000000000000000000000000')
      .executeTakeFirstOrThrow();
    assert.equal(row.outcome, 'unknown_order');
  });
});
