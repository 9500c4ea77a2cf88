/**
 * The admin console's webhook deliveries (/admin/#/webhooks) in headless Chromium, against demo
 * mode with MINIPAY_WEBHOOK_URLS pointing at a receiver this test runs: one URL that answers
 * 204 and one that answers 503 until it is "fixed". A merchant sees delivered and failed rows,
 * filters them, replays a failed one once the receiver is fixed and sees it delivered, and a
 * replay the server refuses shows the server's reason in the row.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { Delivery } from '../../src/payments/index.js';
import { webPages } from '../../src/server/web-pages.js';
import { browserSkipReason, launchBrowser, openPage, seeText } from '../support/browser.js';
import { checkout, type Demo, eventually, startDemo } from '../support/demo.js';
import { listenUntilEnd } from '../support/listen.js';

const skip = browserSkipReason();
const SECRET = 'whsec-console-0123456789abcdef';

interface Arrival {
  path: string;
  eventId: string;
  status: number;
}

/** The merchant's endpoints: /ok answers 204; /flaky answers 503 until `flakyUp`. */
async function receiver(t: TestContext) {
  const state = { flakyUp: false, arrivals: [] as Arrival[] };
  const server = createServer(async (req, res) => {
    for await (const _ of req);
    const path = req.url ?? '';
    const status = path === '/ok' || state.flakyUp ? 204 : 503;
    const eventId = String(req.headers['minipay-event-id'] ?? '');
    state.arrivals.push({ path, eventId, status });
    res.writeHead(status);
    res.end();
  });
  const base = await listenUntilEnd(t, server);
  return { state, ok: `${base}/ok`, flaky: `${base}/flaky` };
}

async function deliveries(demo: Demo, query = ''): Promise<Delivery[]> {
  const res = await demo.api('GET', `/admin/v1/webhooks/deliveries?limit=100${query}`, {
    token: demo.launched.adminToken,
  });
  assert.equal(res.status, 200, res.text);
  return (res.json as unknown as { deliveries: Delivery[] }).deliveries;
}

/** Clicks Refresh until `row` shows `expected` (a replayed delivery goes out on the next job run). */
async function refreshUntil(page: Page, row: Locator, expected: string) {
  await eventually(
    async () => {
      await page.getByTestId('refresh').click();
      await page.getByTestId('deliveries').waitFor();
      const text = await row.textContent({ timeout: 1000 }).catch(() => null);
      if (text?.includes(expected)) return true;
      await new Promise((r) => setTimeout(r, 250));
      return false;
    },
    20_000,
    `a row showing "${expected}"`,
  );
}

describe('admin console: webhook deliveries in Chromium', { skip: skip ?? false }, () => {
  test('delivered and failed rows, the status filter, replay after a fix, a refused replay', async (t) => {
    const receiving = await receiver(t);
    const dir = mkdtempSync(join(tmpdir(), 'minipay-console-webhooks-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const demo = await startDemo(t, `sqlite:${join(dir, 'demo.sqlite')}`, {
      plugins: [webPages()],
      env: {
        MINIPAY_WEBHOOK_URLS: `${receiving.ok},${receiving.flaky}`,
        MINIPAY_WEBHOOK_SECRET: SECRET,
      },
    });

    // A paid order: its events go to both URLs; /flaky fails every one of them.
    const { token, openid } = await demo.login();
    const { order, payment } = await checkout(demo, token);
    demo.sandbox.pay({ openid, ...payment });
    let failed: Delivery[] = [];
    await eventually(
      async () => {
        const all = await deliveries(demo);
        failed = all.filter((d) => d.status === 'failed');
        const paidEvents = await demo.launched.server.store.db
          .selectFrom('order_events')
          .select('id')
          .where('order_id', '=', order.id)
          .where('type', '=', 'order.paid')
          .execute();
        const paidEvent = paidEvents[0]?.id;
        return (
          !!paidEvent &&
          failed.length >= 2 &&
          all.some((d) => d.status === 'delivered' && d.eventId === paidEvent)
        );
      },
      20_000,
      'delivered and failed deliveries',
    );
    const delivered = (await deliveries(demo, '&status=delivered'))[0]!;
    const [toReplay, toRefuse] = failed as [Delivery, Delivery];
    assert.equal(toReplay.url, receiving.flaky);

    const browser = await launchBrowser(t);
    const { page, errors } = await openPage(browser, `${demo.url}/admin/#/webhooks`);
    await page.getByTestId('token').fill(demo.launched.adminToken!);
    await page.getByTestId('sign-in').click();

    // What the merchant sees: each delivery with its event, URL, status and last result.
    const replayRow = page.getByTestId(`delivery-row-${toReplay.id}`);
    const refuseRow = page.getByTestId(`delivery-row-${toRefuse.id}`);
    const deliveredRow = page.getByTestId(`delivery-row-${delivered.id}`);
    await seeText(replayRow, toReplay.eventType);
    await seeText(replayRow, receiving.flaky);
    await seeText(replayRow, '失败');
    await seeText(replayRow, 'answered HTTP 503');
    await seeText(deliveredRow, '已送达');
    await seeText(deliveredRow, receiving.ok);

    // The filter asks the server for one status; its options are in the console's language.
    const filter = page.getByTestId('delivery-status');
    assert.deepEqual(await filter.locator('option').allTextContents(), [
      '全部状态',
      '待投递',
      '已送达',
      '失败',
      '已放弃',
    ]);
    await filter.selectOption('failed');
    await seeText(replayRow, '失败');
    await eventually(async () => (await deliveredRow.count()) === 0, 10_000, 'delivered hidden');
    await filter.selectOption('delivered');
    await seeText(deliveredRow, '已送达');
    await eventually(async () => (await replayRow.count()) === 0, 10_000, 'failed hidden');
    await filter.selectOption('');
    await seeText(replayRow, '失败');

    // The merchant fixes the endpoint and replays: queued at once, then delivered.
    receiving.state.flakyUp = true;
    await replayRow.getByTestId('replay').click();
    await seeText(replayRow.getByTestId('replay-result'), '已重新排队');
    await refreshUntil(page, replayRow, '已送达');
    assert.ok(
      receiving.state.arrivals.some(
        (a) => a.path === '/flaky' && a.eventId === toReplay.eventId && a.status === 204,
      ),
      'the replayed event reached the fixed endpoint',
    );

    // A replay the server refuses (the delivery is gone since the list was loaded) says why.
    await seeText(refuseRow, toRefuse.eventType);
    await demo.launched.server.store.db
      .deleteFrom('webhook_deliveries')
      .where('id', '=', toRefuse.id)
      .execute();
    // Failed or (retried meanwhile) delivered: either way it offers a replay.
    await refuseRow.getByTestId('replay').click();
    await seeText(refuseRow.getByTestId('replay-result'), 'NOT_FOUND');
    await seeText(refuseRow.getByTestId('replay-result'), 'no such webhook delivery');
    assert.deepEqual(errors, []);
  });
});
