/**
 * Times and amounts as v3 answers carry them: RFC 3339 read exactly (offsets, fractions, leap
 * days; no rolled-over dates), fen as JSON integers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { v3 } from '../../../src/wechatpay/index.js';

describe('APIv3 field readers', () => {
  it('reads RFC 3339 times as Date does, in any offset', () => {
    for (const s of [
      '2026-01-01T12:05:07+08:00',
      '2026-01-01T04:05:07Z',
      '2026-01-01T12:05:07.5+08:00',
      '2026-01-01T12:05:07.123-03:30',
      '2024-02-29T00:00:00+08:00',
      '2000-02-29T23:59:59+08:00',
    ]) {
      assert.equal(v3.parseRfc3339(s, 'x').toISOString(), new Date(s).toISOString(), s);
    }
    assert.equal(
      v3.formatRfc3339(new Date('2026-01-01T04:05:07.900Z')),
      '2026-01-01T12:05:07+08:00',
    );
  });

  it('refuses dates that do not exist and other formats', () => {
    for (const s of [
      '2026-02-30T12:00:00+08:00',
      '2025-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T12:60:00Z',
      '2026-1-01T12:00:00Z',
      '2026-01-01 12:00:00',
      '20260101120000',
      '2026-01-01T12:00:00+0800',
    ]) {
      assert.throws(
        () => v3.parseRfc3339(s, 'x'),
        (e: v3.WechatPayV3Error) => e.code === 'MALFORMED',
        s,
      );
    }
  });
});
