/** The /metrics counters: one series per label set, whatever the order labels are given in. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Metrics } from '../../src/server/metrics.js';

test('labels name one series in any order; values are escaped for the text format', () => {
  const m = new Metrics();
  m.inc('minipay_http_requests_total', { route: '/a', method: 'POST', status: '200' });
  m.inc('minipay_http_requests_total', { status: '200', method: 'POST', route: '/a' });
  m.inc('minipay_notifies_total', { result: 'say "hi"\\ there\nnext' });
  m.inc('minipay_logins_total');
  assert.equal(
    m.value('minipay_http_requests_total', { method: 'POST', route: '/a', status: '200' }),
    2,
  );
  const text = m.render();
  assert.match(text, /^minipay_http_requests_total\{method="POST",route="\/a",status="200"\} 2$/m);
  assert.match(text, /^minipay_notifies_total\{result="say \\"hi\\"\\\\ there\\nnext"\} 1$/m);
  assert.match(text, /^minipay_logins_total 1$/m);
});
