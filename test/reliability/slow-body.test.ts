/**
 * Slow bodies (slowloris): sockets that send a notify's headers and then its body one byte at
 * a time must not stop the server serving others, and a request may not take forever: the
 * server has a whole-request deadline (Fastify's default, 0, would switch Node's off).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { REQUEST_TIMEOUT_MS } from '../../src/server/app.js';
import { eventually, startDemo } from '../support/demo.js';
import { describeOnStores } from '../support/stores.js';

const SLOW_SOCKETS = 20;

describeOnStores(
  'slow bodies',
  (stores) => {
    test('20 trickling notify bodies: others are served, nothing is recorded, requests have a deadline', async (t) => {
      const demo = await startDemo(t, await stores.freshUrl(), { jobs: false });
      assert.ok(REQUEST_TIMEOUT_MS > 0 && REQUEST_TIMEOUT_MS <= 60_000);
      assert.equal(demo.launched.server.app.server.requestTimeout, REQUEST_TIMEOUT_MS);

      const { port } = new URL(demo.url);
      const sockets: Socket[] = [];
      const timers: NodeJS.Timeout[] = [];
      // Before the server closes: closing waits for requests in flight, these included.
      const stopTrickling = () => {
        for (const timer of timers) clearInterval(timer);
        for (const s of sockets) s.destroy();
      };
      try {
        for (let i = 0; i < SLOW_SOCKETS; i++) {
          const socket = connect(Number(port), '127.0.0.1');
          socket.on('error', () => undefined);
          socket.write(
            'POST /wechatpay/v2/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\nContent-Length: 4000\r\n\r\n<xml>',
          );
          timers.push(setInterval(() => socket.write('A'), 100));
          sockets.push(socket);
        }

        // While they trickle, a whole purchase goes through.
        const { token, openid } = await demo.login();
        const res = await demo.api('POST', '/api/v1/orders', {
          token,
          body: { items: [{ productId: 'prd_sample', quantity: 1 }] },
          headers: { 'idempotency-key': 'slow-body-1' },
        });
        assert.equal(res.status, 201, res.text);
        demo.sandbox.pay({ openid, ...res.json.payment! });
        const id = res.json.order!.id;
        await eventually(async () => {
          const o = await demo.api('GET', `/api/v1/orders/${id}`, { token });
          return o.json.order?.status === 'PAID';
        });
        assert.equal((await fetch(`${demo.url}/healthz`)).status, 200);
        const anomalies = await demo.launched.server.store.db
          .selectFrom('anomalies')
          .select('id')
          .execute();
        assert.equal(anomalies.length, 0, 'an unfinished body is not a notification');
      } finally {
        stopTrickling();
      }
    });
  },
  ['sqlite'],
);
