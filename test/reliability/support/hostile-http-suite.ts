/**
 * The hostile corpus (test/fixtures/hostile, built by test/support/hostile-cases.ts) over HTTP
 * against a running demo server: every XML case to /wechatpay/v2/notify (and the refund ones to
 * /wechatpay/v2/refund-notify once that route exists), every JSON case to its /api/v1 path.
 * Each must get a clear refusal (or, for a duplicate or a failed-payment report, WeChat's
 * SUCCESS), change no order and no business row, leave the server serving, and put nothing
 * secret in the answer or in the server's log lines.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DEMO_CREDENTIALS } from '../../../src/sandbox/credentials.js';
import { decodeXml, encodeXml, signV2 } from '../../../src/wechatpay/index.js';
import { type Demo, startDemo } from '../../support/demo.js';
import {
  buildHostileCases,
  DEFAULT_HOSTILE_CONTEXT,
  genuineNotifyFields,
  type HostileCase,
  type HostileContext,
} from '../../support/hostile-cases.js';
import { describeOnStores, type StoreKind } from '../../support/stores.js';
import { capturedLogger } from './captured-logger.js';
import { businessState } from './snapshot.js';
import { acknowledged } from './storm.js';

const NOTIFY = '/wechatpay/v2/notify';
const REFUND_NOTIFY = '/wechatpay/v2/refund-notify';

interface World {
  demo: Demo;
  lines: string[];
  secrets: string[];
  alice: { token: string; openid: string };
  pending: HostileContext;
  paid: HostileContext;
  pendingOrderId: string;
  paidOrderId: string;
  bobOrderId: string;
  refundRoute: boolean;
}

let keys = 0;
async function order(demo: Demo, token: string) {
  const res = await demo.api('POST', '/api/v1/orders', {
    token,
    body: { items: [{ productId: 'prd_mooncake', quantity: 1 }] },
    headers: { 'idempotency-key': `hostile-http-${++keys}` },
  });
  assert.equal(res.status, 201, res.text);
  return res.json.order!;
}

async function setUp(databaseUrl: string): Promise<World> {
  const { logger, lines } = capturedLogger();
  const demo = await startDemo(undefined, databaseUrl, {
    logger,
    jobs: false,
    // Some 30 malformed orders from one user within seconds: the per-user limit would answer
    // the later ones 429 instead of the refusal each case is about.
    env: { MINIPAY_RATE_LIMIT_ORDERS: '0' },
  });
  const alice = await demo.login();
  const bob = await demo.login();
  const context = (o: { outTradeNo: string; totalFen: number }, n: number): HostileContext => ({
    ...DEFAULT_HOSTILE_CONTEXT,
    outTradeNo: o.outTradeNo,
    totalFee: o.totalFen,
    openid: alice.openid,
    transactionId: `420000000020261130000000000${n}`,
  });
  const a = await order(demo, alice.token);
  const b = await order(demo, alice.token);
  const bobs = await order(demo, bob.token);
  const paid = context(b, 2);
  // Order b is paid by its genuine notify first, so the replay cases replay a real payment.
  const fields = genuineNotifyFields(paid);
  const genuine = encodeXml({ ...fields, sign: signV2(fields, paid.mchKey, 'MD5') });
  const res = await demo.api('POST', NOTIFY, {
    raw: genuine,
    headers: { 'content-type': 'text/xml' },
  });
  assert.ok(acknowledged(res.text), res.text);
  const refundRoute = demo.launched.server.app.hasRoute({ method: 'POST', url: REFUND_NOTIFY });
  return {
    demo,
    lines,
    secrets: [
      DEMO_CREDENTIALS.mchKey,
      DEMO_CREDENTIALS.appSecret,
      demo.launched.adminToken!,
      alice.token,
      bob.token,
      'root:x:0:0',
    ],
    alice,
    pending: context(a, 1),
    paid,
    pendingOrderId: a.id,
    paidOrderId: b.id,
    bobOrderId: bobs.id,
    refundRoute,
  };
}

/** The corpus rebuilt for this server's orders: replays for the paid one, the rest for the pending one. */
function casesFor(w: World): HostileCase[] {
  const paid = new Map(buildHostileCases(w.paid).map((c) => [c.name, c]));
  return buildHostileCases(w.pending).map((c) =>
    c.expect === 'replay' ? (paid.get(c.name) as HostileCase) : c,
  );
}

async function send(w: World, c: HostileCase) {
  const fill = (s: string) =>
    s.replaceAll('{productId}', 'prd_sample').replaceAll('{otherUserOrderId}', w.bobOrderId);
  const headers: Record<string, string> = { ...c.headers };
  if (c.contentType) headers['content-type'] = c.contentType;
  else if (c.target !== 'json-api') headers['content-type'] = 'text/xml';
  if (c.auth) headers.authorization = `Bearer ${w.alice.token}`;
  const path =
    c.target === 'json-api' ? fill(c.path!) : c.target === 'refund-notify' ? REFUND_NOTIFY : NOTIFY;
  const body =
    c.target === 'json-api'
      ? c.body.length === 0
        ? undefined
        : Buffer.from(fill(c.body.toString('utf8')))
      : c.body;
  const res = await fetch(`${w.demo.url}${path}`, { method: c.method ?? 'POST', headers, body });
  return { status: res.status, text: await res.text() };
}

/**
 * Correctly signed cases the server refuses although the manifest calls them acknowledgeable:
 * readPaymentNotify refuses any return_code but SUCCESS before it looks at the signature (a
 * FAIL message proves nothing), so WeChat would retry it; a retry changes nothing either.
 */
const REFUSED_THOUGH_SIGNED = new Set(['return-code-fail']);

/** Notify answers: WeChat's XML, SUCCESS only where WeChat must stop retrying. */
function checkNotifyAnswer(c: HostileCase, status: number, text: string) {
  assert.equal(status, c.xmlError === 'TOO_LARGE' ? 413 : 200, text);
  const reply = decodeXml(Buffer.from(text));
  assert.deepEqual(Object.keys(reply), ['return_code', 'return_msg'], text);
  assert.ok((reply.return_msg ?? '').length > 0, 'a reason');
  const ok =
    (c.expect === 'not-a-payment' || c.expect === 'replay') && !REFUSED_THOUGH_SIGNED.has(c.name);
  assert.equal(reply.return_code, ok ? 'SUCCESS' : 'FAIL', text);
}

function checkJsonAnswer(c: HostileCase, status: number, text: string) {
  assert.equal(status, c.status, text);
  const json = JSON.parse(text) as { error?: { code?: string; message?: string } };
  assert.ok(json.error?.message && json.error.message.length > 5, `a message: ${text}`);
  if (c.code) assert.equal(json.error?.code, c.code, text);
}

/**
 * Correctly signed messages a person must look at: each is recorded as one anomaly. (Unknown
 * orders are too, deduplicated by transaction_id, which the two unknown-order cases share.)
 */
const NEEDS_A_PERSON: readonly string[] = [
  'merchant-refused',
  'amount-refused',
  'replay-new-transaction',
];

async function anomalyCount(db: Demo['launched']['server']['store']['db']): Promise<number> {
  const row = await db
    .selectFrom('anomalies')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function hostileHttpSuite(kind: StoreKind) {
  describeOnStores(
    'hostile corpus over HTTP',
    (stores) => {
      let w: World;
      before(async () => {
        w = await setUp(await stores.freshUrl());
      });
      after(() => w?.demo.launched.close());

      describe('each case', () => {
        for (const c of buildHostileCases()) {
          test(`${c.target} ${c.name}: ${c.expect}`, async (t) => {
            const live = casesFor(w).find((x) => x.name === c.name)!;
            if (live.target === 'refund-notify' && !w.refundRoute) {
              t.skip('no refund-notify route on this server yet');
              return;
            }
            const { db } = w.demo.launched.server.store;
            const beforeState = await businessState(db);
            const anomaliesBefore = await anomalyCount(db);
            const logFrom = w.lines.length;
            const { status, text } = await send(w, live);
            if (live.target === 'json-api') checkJsonAnswer(live, status, text);
            else checkNotifyAnswer(live, status, text);
            assert.equal(await businessState(db), beforeState, 'no order or business row changed');
            const grew = (await anomalyCount(db)) - anomaliesBefore;
            if (live.target === 'json-api')
              assert.equal(grew, 0, 'a refused request is no anomaly');
            else if (NEEDS_A_PERSON.includes(live.name) || NEEDS_A_PERSON.includes(live.expect))
              assert.equal(grew, 1, 'a correctly signed but wrong message is one anomaly');
            else assert.ok(grew <= 1, 'at most one audit row per message');
            const logged = w.lines.slice(logFrom).join('');
            for (const secret of w.secrets) {
              assert.ok(!text.includes(secret), 'nothing secret in the answer');
              assert.ok(!logged.includes(secret), 'nothing secret in the log');
            }
            const health = await fetch(`${w.demo.url}/healthz`);
            assert.equal(health.status, 200, 'still serving');
          });
        }
      });

      test('afterwards: the pending order is still PENDING, the paid one PAID once', async () => {
        const { db } = w.demo.launched.server.store;
        const rows = await db
          .selectFrom('orders')
          .select(['id', 'status', 'transaction_id'])
          .where('id', 'in', [w.pendingOrderId, w.paidOrderId])
          .execute();
        const byId = new Map(rows.map((r) => [r.id, r]));
        assert.equal(byId.get(w.pendingOrderId)?.status, 'PENDING');
        assert.equal(byId.get(w.paidOrderId)?.status, 'PAID');
        assert.equal(byId.get(w.paidOrderId)?.transaction_id, w.paid.transactionId);
        const paidEvents = await db
          .selectFrom('order_events')
          .select('id')
          .where('order_id', '=', w.paidOrderId)
          .where('type', '=', 'order.paid')
          .execute();
        assert.equal(paidEvents.length, 1);
      });
    },
    [kind],
  );
}
