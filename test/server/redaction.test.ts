/**
 * Query strings and credentials in URLs never reach an answer or a log line: request log lines,
 * webhook URLs and their errors in the admin deliveries list, the dead-letter log line, and
 * configuration messages; a webhook URL with `user:pass@` is refused at start-up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/app/config.js';
import { type DeliveryRow, deliveryView } from '../../src/payments/events/webhooks.js';
import { redactUrl, redactUrlsIn } from '../../src/payments/lib/url-redaction.js';
import { capturedLogger } from '../reliability/support/captured-logger.js';
import { checkout, startDemo } from '../support/demo.js';

const SECRET = 'whsec-test-0123456789abcdef';

describe('URLs redacted in answers and logs', () => {
  test('redactUrl and redactUrlsIn', () => {
    assert.equal(
      redactUrl('https://shop.example/hooks?token=s3cret&x=1'),
      'https://shop.example/hooks?[redacted]',
    );
    assert.equal(
      redactUrl('https://user:pa55@shop.example:8443/h#frag'),
      'https://[redacted]@shop.example:8443/h',
    );
    assert.equal(redactUrl('/api/v1/orders?cursor=abc'), '/api/v1/orders?[redacted]');
    assert.equal(redactUrl('/api/v1/orders'), '/api/v1/orders');
    assert.equal(
      redactUrlsIn('fetch https://u:p@h.example/x?token=s3cret failed; retry http://a.example/b'),
      'fetch https://[redacted]@h.example/x?[redacted] failed; retry http://a.example/b',
    );
  });

  test('the admin deliveries view: URL and lastError without query or credentials', () => {
    const row: DeliveryRow = {
      id: 'whd_1',
      event_id: 'evt_1',
      event_type: 'order.paid',
      url: 'https://shop.example/hooks/minipay?token=s3cret',
      status: 'failed',
      attempts: 1,
      last_attempt_at: '2026-11-22T08:00:00.000Z',
      next_attempt_at: '2026-11-22T08:00:30.000Z',
      last_status_code: null,
      last_error: 'Failed to parse URL from https://shop.example/hooks/minipay?token=s3cret',
      created_at: '2026-11-22T08:00:00.000Z',
      first_attempt_at: '2026-11-22T08:00:00.000Z',
    };
    const view = deliveryView(row);
    assert.equal(view.url, 'https://shop.example/hooks/minipay?[redacted]');
    assert.equal(
      view.lastError,
      'Failed to parse URL from https://shop.example/hooks/minipay?[redacted]',
    );
  });

  test('a webhook URL with user:pass@ is refused at start-up, without echoing the password', () => {
    try {
      loadConfig({
        MINIPAY_WEBHOOK_URLS: 'https://shop:pa55word@shop.example/hook?token=s3cret',
        MINIPAY_WEBHOOK_SECRET: SECRET,
      });
      assert.fail('accepted');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const text = err.problems.join('\n');
      assert.match(text, /user:password@ part, which fetch cannot send; take it out/);
      assert.ok(!text.includes('pa55word') && !text.includes('s3cret'), text);
    }
    const notUrl = (() => {
      try {
        loadConfig({
          MINIPAY_WEBHOOK_URLS: 'ftp://x?token=s3cret',
          MINIPAY_WEBHOOK_SECRET: SECRET,
        });
      } catch (err) {
        return (err as ConfigError).problems.join('\n');
      }
      return '';
    })();
    assert.match(notUrl, /not an http\(s\) URL/);
    assert.ok(!notUrl.includes('s3cret'));
  });

  test('request log lines and the deliveries list: no query string, no webhook token', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'minipay-redact-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { logger, lines } = capturedLogger('info');
    const hook = 'http://127.0.0.1:9/hooks/minipay?token=hook-s3cret';
    const demo = await startDemo(t, `sqlite:${join(dir, 'db.sqlite')}`, {
      logger,
      jobs: false,
      env: { MINIPAY_WEBHOOK_URLS: hook, MINIPAY_WEBHOOK_SECRET: SECRET },
    });
    const { token } = await demo.login();
    await checkout(demo, token);
    const admin = demo.launched.adminToken!;
    const listed = await demo.api('GET', '/api/v1/orders?limit=5&cursor=cursor-s3cret', { token });
    assert.equal(listed.status, 400);
    await demo.api('GET', '/admin/v1/orders?openid=oOpenid-s3cret', { token: admin });
    // The events reach the delivery table; the receiver is not there (port 9): failed.
    await demo.launched.server.payments.outbox.relay();
    await demo.launched.server.payments.webhooks.deliver();
    const deliveries = await demo.api('GET', '/admin/v1/webhooks/deliveries', { token: admin });
    assert.equal(deliveries.status, 200);
    assert.ok(deliveries.text.includes('http://127.0.0.1:9/hooks/minipay?[redacted]'));
    assert.ok(!deliveries.text.includes('hook-s3cret'), deliveries.text);

    const requests = lines.filter((l) => l.includes('"msg":"request"'));
    assert.ok(requests.some((l) => l.includes('"url":"/api/v1/orders?[redacted]"')));
    assert.ok(requests.some((l) => l.includes('"url":"/admin/v1/orders?[redacted]"')));
    const all = lines.join('');
    for (const secret of ['cursor-s3cret', 'oOpenid-s3cret', 'hook-s3cret', SECRET, token, admin]) {
      assert.ok(!all.includes(secret), `the log shows ${secret}`);
    }
  });
});
