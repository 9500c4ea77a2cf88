import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_WEBHOOK_RETRY,
  nextRetryAt,
  retryDelayMs,
  scaleSchedule,
} from '../../../src/payments/events/webhook-retry.js';

const HOUR = 3600_000;

describe('webhook retry schedule', () => {
  it('doubles from 30 s up to the 2 h cap without jitter at random=1', () => {
    const delays = [1, 2, 3, 4, 9, 10, 40].map((n) => retryDelayMs(n, undefined, () => 1));
    assert.deepEqual(delays, [30_000, 60_000, 120_000, 240_000, 2 * HOUR, 2 * HOUR, 2 * HOUR]);
  });
  it('jitters each wait into [half, full]', () => {
    assert.equal(
      retryDelayMs(3, undefined, () => 0),
      60_000,
    );
    assert.equal(
      retryDelayMs(3, undefined, () => 0.5),
      90_000,
    );
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(5);
      assert.ok(d >= 240_000 && d <= 480_000, `delay ${d}`);
    }
  });
  it('refuses a failure count that is not a positive integer', () => {
    assert.throws(() => retryDelayMs(0), RangeError);
    assert.throws(() => retryDelayMs(1.5), RangeError);
  });
  it('keeps retrying for about a day, then dead-letters', () => {
    for (const random of [() => 0, () => 1, Math.random]) {
      const first = new Date('2026-11-22T00:00:00Z');
      let now = first;
      let failures = 0;
      for (;;) {
        failures++;
        const next = nextRetryAt(failures, first, now, DEFAULT_WEBHOOK_RETRY, random);
        if (!next) break;
        assert.ok(next > now);
        now = next;
      }
      const spanH = (now.getTime() - first.getTime()) / HOUR;
      assert.ok(spanH > 22 && spanH <= 24, `last retry ${spanH} h after the first attempt`);
      assert.ok(failures >= 15 && failures <= 35, `${failures} attempts`);
    }
  });
  it('dead-letters exactly at the window edge', () => {
    const first = new Date(0);
    const edge = new Date(24 * HOUR - 2 * HOUR);
    assert.deepEqual(
      nextRetryAt(20, first, edge, undefined, () => 1),
      new Date(24 * HOUR),
    );
    const past = new Date(edge.getTime() + 1);
    assert.equal(
      nextRetryAt(20, first, past, undefined, () => 1),
      null,
    );
  });
  it('scales for tests and demo mode', () => {
    const fast = scaleSchedule(DEFAULT_WEBHOOK_RETRY, 1000);
    assert.equal(
      retryDelayMs(1, fast, () => 1),
      30,
    );
    assert.throws(() => scaleSchedule(DEFAULT_WEBHOOK_RETRY, 0), RangeError);
  });
});
