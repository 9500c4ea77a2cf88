/**
 * Several instances on one PostgreSQL: `minipay migrate` once, then `instances` × `minipay
 * start` (live mode, MINIPAY_MIGRATE=off, 1-second jobs, one webhook receiver) against one
 * `minipay sandbox` process. Checkouts go round the instances (a checkout whose instance is down
 * is retried with its Idempotency-Key on the next one, as behind a proxy), so the sandbox's
 * notifies go to all of them; a second set of orders is paid with the notify held back and
 * its genuine bytes then POSTed to every instance at once; the last instance is SIGKILLed in
 * the middle and started again; then paid orders are refunded in full from two admin consoles
 * (two instances) at once. Afterwards, from the databases themselves: every trade the sandbox
 * holds as paid is PAID in the store with its transaction_id, one `order.paid` each, no order
 * refunded beyond its total (in the store and at WeChat), every event delivered to the webhook
 * receiver with its own id, and each job run at most once per slot across the instances.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { PaymentParams } from '../../../src/payments/index.js';
import { DEMO_CREDENTIALS } from '../../../src/sandbox/credentials.js';
import { minipay } from '../../support/cli.js';
import { eventually } from '../../support/demo.js';
import { startPostgres } from '../../support/postgres.js';
import { startSandboxProcess } from './chaos.js';
import {
  ADMIN_TOKEN,
  freePort,
  type LiveServer,
  openShop,
  PRODUCT,
  readDb,
  startLive,
} from './live-server.js';
import { inPool } from './pool.js';
import { acknowledged } from './storm.js';

export interface ClusterOptions {
  instances: number;
  /** Orders paid with the sandbox's own notify (to the instance that checked them out). */
  orders: number;
  /** Orders whose notify is held back and then sent to every instance at once. */
  sharedNotifies: number;
  /** Paid orders refunded in full from two consoles at once. */
  refunds: number;
  /** Checkouts in flight at once. */
  parallel: number;
}

export interface ClusterResult {
  instances: number;
  checkouts: number;
  /** Checkouts that were answered by another instance than their first (theirs was down). */
  checkoutsFailedOver: number;
  /** Purchases given up because a SIGKILLed attempt held their key (a new one took their place). */
  checkoutsAbandoned: number;
  paidAtWechat: number;
  paidInStore: number;
  missing: string[];
  paidEvents: number;
  doublePaid: number;
  /** Instances whose notify log shows a payment notify they answered. */
  instancesNotified: number;
  sharedCopies: number;
  sharedAcknowledged: number;
  /** Copies that found their instance down (SIGKILLed). */
  sharedConnectionErrors: number;
  refundPairs: number;
  /** Of each pair of refund requests, how many were accepted (201). */
  refundsAccepted: number;
  refundsRefused: Record<string, number>;
  /** Orders whose refunds exceed the total, in the store or at WeChat. */
  overRefunded: number;
  events: number;
  webhookDeliveries: number;
  /** Events the receiver never got. */
  webhooksMissing: number;
  /** Deliveries whose body named another event than their Minipay-Event-Id. */
  webhooksMismatched: number;
  /** Events the receiver got more than once (at-least-once allows it). */
  webhooksRepeated: number;
  jobs: JobCheck;
  seconds: number;
}

export interface JobCheck {
  /** Completed runs per job name. */
  runs: Record<string, number>;
  /** Slots (name + singleton_on) with more than one run. */
  doubledSlots: number;
  /** Runs of one job that overlapped in time. */
  overlapping: number;
  /** The instances (host:pid) that ran jobs. */
  instances: number;
}

const WEBHOOK_SECRET = 'cluster-webhook-secret-0123456789';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A webhook receiver: every delivery's event id header and the id in its body. */
async function startReceiver() {
  const deliveries: { header: string; bodyId: string; type: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const parsed = JSON.parse(body) as { id: string; type: string };
      deliveries.push({
        header: String(req.headers['minipay-event-id']),
        bodyId: parsed.id,
        type: parsed.type,
      });
      res.writeHead(200).end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    deliveries,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export async function runCluster(o: ClusterOptions): Promise<ClusterResult> {
  const started = performance.now();
  const cluster = await startPostgres();
  assert.ok(cluster, 'PostgreSQL binaries are needed');
  const databaseUrl = await cluster.createDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'minipay-cluster-'));
  const sandboxFile = join(dir, 'sandbox.sqlite');
  const sandbox = await startSandboxProcess(sandboxFile, 19);
  const receiver = await startReceiver();
  const db = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  const servers: LiveServer[] = [];
  try {
    const migrate = minipay(['migrate'], { MINIPAY_DATABASE_URL: databaseUrl });
    const [code] = await once(migrate.child, 'exit');
    assert.equal(code, 0, migrate.output().stderr);

    const ports = await Promise.all(Array.from({ length: o.instances }, () => freePort()));
    const start = (i: number) =>
      startLive({
        sandboxUrl: sandbox.url,
        credentials: DEMO_CREDENTIALS,
        port: ports[i]!,
        databaseUrl,
        env: {
          MINIPAY_MIGRATE: 'off',
          MINIPAY_WEBHOOK_URL: receiver.url,
          MINIPAY_WEBHOOK_SECRET: WEBHOOK_SECRET,
        },
      });
    // Every instance that did start is stopped in `finally`, even when another failed to.
    const launched = await Promise.allSettled(ports.map((_, i) => start(i)));
    for (const r of launched) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = launched.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;

    const loginCode = async () => (await sandbox.post('/sandbox/v1/login-code', {})).json;
    const buyers: { token: string; openid: string }[] = [];
    for (let i = 0; i < o.instances; i++) {
      const code = (await loginCode()) as { code: string; openid: string };
      buyers.push(await openShop(servers[i]!, () => code));
    }

    let failedOver = 0;
    let abandoned = 0;
    /**
     * One purchase as a client behind a proxy makes it: the same key on the next instance while
     * its instance is down. A key held by an attempt the SIGKILL cut short answers 409
     * IDEMPOTENCY_IN_PROGRESS on every instance for 60 s: then the buyer starts a new purchase
     * (the abandoned order never reaches the cashier, so no money is involved).
     */
    const purchase = async (n: number, key: string) => {
      const buyer = buyers[n % buyers.length]!;
      let blockedSince: number | null = null;
      const deadline = Date.now() + 120_000;
      for (let attempt = 0; Date.now() < deadline; attempt++) {
        const server = servers[(n + attempt) % servers.length]!;
        try {
          const res = await server.api('POST', '/api/v1/orders', {
            token: buyer.token,
            body: { items: [{ productId: PRODUCT.id, quantity: 1 }] },
            headers: { 'idempotency-key': key },
          });
          if (res.status === 201) {
            if (attempt > 0) failedOver++;
            return { openid: buyer.openid, ...(res.json.payment as PaymentParams) };
          }
          if (res.json.error?.code === 'IDEMPOTENCY_IN_PROGRESS') {
            blockedSince ??= Date.now();
            if (Date.now() - blockedSince > 3000) return null;
          } else if (res.status < 500) {
            throw new Error(`checkout refused: ${res.status} ${res.text}`);
          }
        } catch (err) {
          if ((err as Error).message.startsWith('checkout refused')) throw err;
          // That instance is down or restarting: the next one.
        }
        await sleep(50);
      }
      throw new Error(`checkout ${key} found no instance in 120 s`);
    };
    const checkout = async (
      n: number,
      tag: string,
    ): Promise<PaymentParams & { openid: string }> => {
      for (let k = 0; ; k++) {
        const paid = await purchase(n, `${tag}-${n}-${k}`);
        if (paid) return paid;
        abandoned++;
      }
    };

    // The victim is killed when half the orders are checked out, and started again.
    const victim = o.instances - 1;
    let checkedOut = 0;
    let restart: Promise<void> | undefined;
    const maybeKill = () => {
      if (restart || ++checkedOut < (o.orders + o.sharedNotifies) / 2) return;
      restart = (async () => {
        await servers[victim]!.kill('SIGKILL');
        servers[victim] = await start(victim);
      })();
    };

    const sharedBodies: string[] = [];
    const sharedOutcomes = { copies: 0, acknowledged: 0, connectionErrors: 0 };
    const sendToAll = async (body: string) => {
      await Promise.all(
        servers.map(async (server) => {
          sharedOutcomes.copies++;
          try {
            const res = await fetch(`${server.url}/wechatpay/v2/notify`, {
              method: 'POST',
              headers: { 'content-type': 'text/xml' },
              body,
            });
            if (res.status === 200 && acknowledged(await res.text())) sharedOutcomes.acknowledged++;
          } catch {
            sharedOutcomes.connectionErrors++;
          }
        }),
      );
    };

    const tag = `cluster-${Date.now()}`;
    const total = o.orders + o.sharedNotifies;
    await inPool(
      Array.from({ length: total }, (_, n) => n),
      o.parallel,
      async (n) => {
        const shared = n % Math.ceil(total / Math.max(o.sharedNotifies, 1)) === 0;
        const payment = await checkout(n, tag);
        maybeKill();
        const paid = await sandbox.post('/sandbox/v1/pay', { ...payment, notify: !shared });
        assert.equal(paid.status, 200, JSON.stringify(paid.json));
        if (!shared) return;
        const outTradeNo = paid.json.outTradeNo as string;
        const log = (await sandbox.get(`/sandbox/v1/notifications?outTradeNo=${outTradeNo}`)) as {
          notifications: { body: string }[];
        };
        const body = log.notifications[0]!.body;
        sharedBodies.push(body);
        await sendToAll(body);
      },
    );
    await restart;

    const sandboxPaid = () =>
      readDb(sandboxFile, (s) =>
        s
          .prepare(
            "SELECT out_trade_no, transaction_id, total_fee FROM trades WHERE state IN ('SUCCESS', 'REFUND')",
          )
          .all(),
      ) as { out_trade_no: string; transaction_id: string; total_fee: number }[];
    const storePaid = async () =>
      new Map(
        (
          await db.query<{ out_trade_no: string; transaction_id: string }>(
            "SELECT out_trade_no, transaction_id FROM orders WHERE status IN ('PAID', 'PARTIALLY_REFUNDED', 'REFUNDED')",
          )
        ).rows.map((r) => [r.out_trade_no, r.transaction_id]),
      );
    const missingNow = async () => {
      const store = await storePaid();
      return sandboxPaid()
        .filter((t) => store.get(t.out_trade_no) !== t.transaction_id)
        .map((t) => t.out_trade_no);
    };
    // The copies a SIGKILLed instance missed, the sandbox's retries and the sweep settle it.
    await eventually(async () => (await missingNow()).length === 0, 180_000, 'every trade PAID');

    // Two consoles (two instances) refund the same order in full at once, with their own keys.
    const paidOrders = (
      await db.query<{ id: string; total_fen: number }>(
        "SELECT id, total_fen FROM orders WHERE status = 'PAID' ORDER BY id LIMIT $1",
        [o.refunds],
      )
    ).rows;
    let accepted = 0;
    const refused: Record<string, number> = {};
    await inPool(paidOrders, 4, async (order) => {
      const answers = await Promise.all(
        [0, 1].map((c) =>
          servers[c]!.api('POST', `/admin/v1/orders/${order.id}/refunds`, {
            token: ADMIN_TOKEN,
            body: { amountFen: order.total_fen, reason: `console ${c}` },
            headers: { 'idempotency-key': `${tag}-refund-${order.id}-${c}` },
          }),
        ),
      );
      for (const a of answers) {
        if (a.status === 201) accepted++;
        else {
          const code = `${a.status} ${a.json.error?.code}`;
          refused[code] = (refused[code] ?? 0) + 1;
        }
      }
    });

    // Everything settles: refunds SUCCESS (the follow-up job asks WeChat), every event delivered.
    const unsettled = async () =>
      (
        await db.query<{ what: string; n: string }>(
          `SELECT 'refunds ' || status AS what, count(*) AS n FROM refunds WHERE status = 'PENDING' GROUP BY status
           UNION ALL SELECT 'events undispatched', count(*) FROM order_events WHERE dispatched_at IS NULL
           UNION ALL SELECT 'webhooks ' || status, count(*) FROM webhook_deliveries WHERE status <> 'delivered' GROUP BY status`,
        )
      ).rows.filter((r) => Number(r.n) > 0);
    await eventually(
      async () => (await unsettled()).length === 0,
      // A job run the SIGKILL cut short holds its job until it expires (60 s for 1-second jobs)
      // and pg-boss's maintenance, every 120 s, notices.
      300_000,
      'refunds settled and webhooks delivered',
    ).catch(async (err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(await unsettled())}`);
    });

    const wechat = sandboxPaid();
    const store = await storePaid();
    const paidEvents = (
      await db.query<{ order_id: string; n: string }>(
        "SELECT order_id, count(*) AS n FROM order_events WHERE type = 'order.paid' GROUP BY order_id",
      )
    ).rows;
    const overInStore = await db.query(
      `SELECT o.id FROM orders o
         LEFT JOIN refunds r ON r.order_id = o.id AND r.status <> 'FAILED'
        GROUP BY o.id, o.total_fen, o.refunded_fen
       HAVING o.refunded_fen > o.total_fen OR coalesce(sum(r.amount_fen), 0) > o.total_fen`,
    );
    const overAtWechat = readDb(sandboxFile, (s) =>
      s
        .prepare(
          'SELECT r.out_trade_no FROM refunds r JOIN trades t ON t.out_trade_no = r.out_trade_no GROUP BY r.out_trade_no, t.total_fee HAVING sum(r.refund_fee) > t.total_fee',
        )
        .all(),
    );
    const notifiedInstances = new Set(
      (
        (await sandbox.get('/sandbox/v1/notifications')) as {
          notifications: { kind: string; url: string; status: string }[];
        }
      ).notifications
        .filter((n) => n.kind === 'payment' && n.status === 'delivered')
        .map((n) => new URL(n.url).port),
    );
    const events = (await db.query<{ id: string }>('SELECT id FROM order_events')).rows;
    const received = new Map<string, number>();
    for (const d of receiver.deliveries) received.set(d.header, (received.get(d.header) ?? 0) + 1);

    return {
      instances: o.instances,
      checkouts: total,
      checkoutsFailedOver: failedOver,
      checkoutsAbandoned: abandoned,
      paidAtWechat: wechat.length,
      paidInStore: store.size,
      missing: await missingNow(),
      paidEvents: paidEvents.reduce((s, e) => s + Number(e.n), 0),
      doublePaid: paidEvents.filter((e) => Number(e.n) > 1).length,
      instancesNotified: notifiedInstances.size,
      sharedCopies: sharedOutcomes.copies,
      sharedAcknowledged: sharedOutcomes.acknowledged,
      sharedConnectionErrors: sharedOutcomes.connectionErrors,
      refundPairs: paidOrders.length,
      refundsAccepted: accepted,
      refundsRefused: refused,
      overRefunded: (overInStore.rowCount ?? 0) + overAtWechat.length,
      events: events.length,
      webhookDeliveries: receiver.deliveries.length,
      webhooksMissing: events.filter((e) => !received.has(e.id)).length,
      webhooksMismatched: receiver.deliveries.filter((d) => d.header !== d.bodyId).length,
      webhooksRepeated: [...received.values()].filter((n) => n > 1).length,
      jobs: await checkJobs(db),
      seconds: Math.round((performance.now() - started) / 1000),
    };
  } finally {
    await Promise.all(servers.map((s) => s.kill('SIGTERM')));
    await db.end();
    await receiver.close();
    await sandbox.stop();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What pg-boss's tables say about the job runs: one per slot, none overlapping, who ran them. */
async function checkJobs(db: pg.Pool): Promise<JobCheck> {
  const { rows } = await db.query<{
    name: string;
    singleton_on: Date | null;
    ran_from: string;
    ran_to: string;
    instance: string | null;
  }>(
    // The run's own window (the runner's output), not pg-boss's started_on: a fetch that waited
    // for the previous run's completion to commit carries its transaction's earlier start time.
    `SELECT name, singleton_on, output->>'ranFrom' AS ran_from, output->>'ranTo' AS ran_to,
            output->>'instance' AS instance
       FROM minipay_jobs.job WHERE state = 'completed'
     UNION ALL
     SELECT name, singleton_on, output->>'ranFrom', output->>'ranTo', output->>'instance'
       FROM minipay_jobs.archive WHERE state = 'completed'
     ORDER BY name, ran_from`,
  );
  const runs: Record<string, number> = {};
  const slots = new Map<string, number>();
  let overlapping = 0;
  let previous: (typeof rows)[number] | undefined;
  for (const r of rows) {
    runs[r.name] = (runs[r.name] ?? 0) + 1;
    const slot = `${r.name} ${r.singleton_on?.toISOString()}`;
    slots.set(slot, (slots.get(slot) ?? 0) + 1);
    if (previous?.name === r.name && r.ran_from < previous.ran_to) overlapping++;
    previous = r;
  }
  return {
    runs,
    doubledSlots: [...slots.values()].filter((n) => n > 1).length,
    overlapping,
    instances: new Set(rows.map((r) => r.instance)).size,
  };
}
