/**
 * A shop that drops an API while orders made with it are open: the server refuses to start,
 * naming the count and what to keep, instead of handing out payment parameters signed the other
 * API's way (RSA on a v2 prepay_id). Once those orders are paid or closed it starts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSandbox } from '../../src/sandbox/index.js';
import { startSandboxServer, until } from '../support/sandbox-server.js';
import { describeOnStores } from '../support/stores.js';

describeOnStores('an API dropped while its orders are open', (stores) => {
  test('v2 → v3 without the v2 key: refused while v2 orders are open, started once none is', async (t) => {
    const sandbox = await startSandbox({ timeScale: 1000 });
    t.after(() => sandbox.close());
    const databaseUrl = await stores.freshUrl();
    const before = await startSandboxServer(t, databaseUrl, { sandboxInstance: sandbox });
    const pending = await before.pendingOrder(1);
    const other = await before.pendingOrder(1);
    await before.paidOrder(1); // a paid v2 order does not hold the switch back
    // The same port: the notify URLs WeChat holds for these orders point at it.
    const config = { port: Number(new URL(before.server.url).port) };
    await before.server.close();

    await assert.rejects(
      startSandboxServer(t, databaseUrl, { sandboxInstance: sandbox, api: 'v3', config }),
      (err: Error) => {
        assert.match(err.message, /^2 v2 orders still open \(CREATED, PENDING or CLOSING\)/);
        assert.match(err.message, /Keep MINIPAY_MCH_KEY set/);
        return true;
      },
    );

    // With v2 kept, the orders are settled: one paid, one cancelled and closed.
    const kept = await startSandboxServer(t, databaseUrl, {
      sandboxInstance: sandbox,
      api: 'v2+v3',
      config,
    });
    sandbox.pay({ ...pending.payment, openid: pending.openid });
    const status = async (id: string) =>
      (
        await kept.server.store.db
          .selectFrom('orders')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).status;
    await until(async () => (await status(pending.order.id)) === 'PAID');
    const cancel = await kept.api('POST', `/api/v1/orders/${other.order.id}/cancel`, {
      token: other.token,
    });
    assert.equal(cancel.status, 200, cancel.text);
    kept.clock.advance(5 * 60_000);
    sandbox.advanceClock(5 * 60_000);
    await kept.server.payments.maintenance.close();
    assert.equal(await status(other.order.id), 'CLOSED');
    await kept.server.close();

    const after = await startSandboxServer(t, databaseUrl, {
      sandboxInstance: sandbox,
      api: 'v3',
      config,
    });
    const fresh = await after.pendingOrder(1);
    assert.equal(fresh.payment.signType, 'RSA');
  });
});
