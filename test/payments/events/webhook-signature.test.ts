import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  parseWebhookEvent,
  signWebhook,
  verifyWebhookSignature,
  WebhookSignatureError,
} from '../../../src/payments/events/webhook-signature.js';

const SECRET = 'whsec_test_0123456789';
const BODY = '{"id":"evt_1","type":"order.paid","createdAt":"2026-11-22T08:00:00.000Z","data":{}}';
const T = 1_795_000_000;
const AT_T = T * 1000;

describe('signWebhook', () => {
  it('is HMAC-SHA256 over "<t>.<raw body>" in hex, computed independently', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    assert.equal(signWebhook(SECRET, BODY, T), `t=${T},v1=${expected}`);
  });
  it('signs a Buffer exactly like the same bytes as a string', () => {
    assert.equal(signWebhook(SECRET, Buffer.from(BODY), T), signWebhook(SECRET, BODY, T));
  });
  it('writes one v1 per secret while rotating', () => {
    const header = signWebhook(['new-secret', 'old-secret'], BODY, T);
    assert.equal(header.split(',').length, 3);
    assert.ok(verifyWebhookSignature('old-secret', header, BODY, { now: AT_T }).ok);
    assert.ok(verifyWebhookSignature('new-secret', header, BODY, { now: AT_T }).ok);
  });
  it('refuses an empty secret and a fractional timestamp', () => {
    assert.throws(() => signWebhook('', BODY, T), /non-empty secret/);
    assert.throws(() => signWebhook(SECRET, BODY, 1.5), /whole unix seconds/);
  });
});

describe('verifyWebhookSignature', () => {
  const header = signWebhook(SECRET, BODY, T);

  it('accepts its own signature and returns the timestamp', () => {
    assert.deepEqual(verifyWebhookSignature(SECRET, header, BODY, { now: AT_T }), {
      ok: true,
      timestamp: T,
    });
  });
  it('accepts any of several receiver secrets (rotation on the receiving side)', () => {
    const r = verifyWebhookSignature(['other', SECRET], header, BODY, { now: AT_T });
    assert.ok(r.ok);
  });
  it('refuses a body changed by one byte', () => {
    const r = verifyWebhookSignature(SECRET, header, BODY.replace('paid', 'paiD'), { now: AT_T });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.reason, 'signature_mismatch');
  });
  it('refuses the wrong secret', () => {
    const r = verifyWebhookSignature('wrong', header, BODY, { now: AT_T });
    assert.equal(!r.ok && r.reason, 'signature_mismatch');
  });
  it('accepts exactly 300 s of skew and refuses 301 s, both directions', () => {
    for (const skew of [300, -300]) {
      assert.ok(verifyWebhookSignature(SECRET, header, BODY, { now: AT_T + skew * 1000 }).ok);
    }
    for (const skew of [301, -301]) {
      const r = verifyWebhookSignature(SECRET, header, BODY, { now: AT_T + skew * 1000 });
      assert.equal(!r.ok && r.reason, 'timestamp_outside_tolerance');
    }
  });
  it('honours a custom tolerance and never allows a zero one', () => {
    const r = verifyWebhookSignature(SECRET, header, BODY, {
      now: AT_T + 11_000,
      toleranceSeconds: 10,
    });
    assert.equal(!r.ok && r.reason, 'timestamp_outside_tolerance');
    assert.throws(
      () => verifyWebhookSignature(SECRET, header, BODY, { toleranceSeconds: 0 }),
      /positive/,
    );
  });
  it('says which part of the header is wrong', () => {
    const cases: [string | undefined, string][] = [
      [undefined, 'missing_header'],
      ['', 'missing_header'],
      ['garbage', 'malformed_header'],
      [`t=${T}`, 'malformed_header'],
      [`v1=${'a'.repeat(64)}`, 'malformed_header'],
      [`t=abc,v1=${'a'.repeat(64)}`, 'malformed_header'],
      [`t=${T},t=${T},v1=${'a'.repeat(64)}`, 'malformed_header'],
      [`t=${T},v1=short`, 'malformed_header'],
    ];
    for (const [h, reason] of cases) {
      const r = verifyWebhookSignature(SECRET, h, BODY, { now: AT_T });
      assert.equal(!r.ok && r.reason, reason, `header ${String(h)}`);
    }
  });
  it('ignores unknown schemes beside a valid v1, and takes the first of repeated headers', () => {
    const withV0 = `${header},v0=${'b'.repeat(64)}`;
    assert.ok(verifyWebhookSignature(SECRET, withV0, BODY, { now: AT_T }).ok);
    assert.ok(verifyWebhookSignature(SECRET, [header, 'x'], BODY, { now: AT_T }).ok);
  });
  it('passes when one of several v1 values matches', () => {
    const h = `t=${T},v1=${'0'.repeat(64)},${header.split(',')[1]}`;
    assert.ok(verifyWebhookSignature(SECRET, h, BODY, { now: AT_T }).ok);
  });
  it('reports a missing secret instead of accepting', () => {
    const r = verifyWebhookSignature('', header, BODY, { now: AT_T });
    assert.equal(!r.ok && r.reason, 'no_secret');
  });
  it('tells the caller to pass the raw body, not a parsed object', () => {
    assert.throws(
      () => verifyWebhookSignature(SECRET, header, JSON.parse(BODY) as string),
      /raw body/,
    );
  });
});

describe('parseWebhookEvent', () => {
  it('returns the parsed event when the signature holds', () => {
    const event = parseWebhookEvent<{ id: string }>(SECRET, signWebhook(SECRET, BODY, T), BODY, {
      now: AT_T,
    });
    assert.equal(event.id, 'evt_1');
  });
  it('throws a typed error otherwise', () => {
    assert.throws(
      () => parseWebhookEvent(SECRET, signWebhook('x', BODY, T), BODY, { now: AT_T }),
      (e: unknown) => e instanceof WebhookSignatureError && e.reason === 'signature_mismatch',
    );
    const notJson = 'not json';
    assert.throws(
      () => parseWebhookEvent(SECRET, signWebhook(SECRET, notJson, T), notJson, { now: AT_T }),
      (e: unknown) => e instanceof WebhookSignatureError && e.reason === 'invalid_body',
    );
  });
});
