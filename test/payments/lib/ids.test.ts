import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, newToken } from '../../../src/payments/lib/ids.js';

test('ids: prefix, 22 base62 characters, no repeats across pool refills', () => {
  const seen = new Set<string>();
  // 20,000 ids draw ~470 KB of random bytes: the 4 KiB pool is refilled over a hundred times.
  for (let i = 0; i < 20_000; i++) {
    const id = newId('ord');
    assert.match(id, /^ord_[0-9A-Za-z]{22}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 20_000);
  assert.match(newId('x', 8), /^x_[0-9A-Za-z]{8}$/);
  assert.match(newToken(), /^[A-Za-z0-9_-]{43}$/);
});

test('ids: every character about equally likely (no modulo bias)', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    for (const c of newId('t').slice(2)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(counts.size, 62);
  const expected = (10_000 * 22) / 62;
  // Chi-square with 61 degrees of freedom: above 140 by chance has p < 10^-7.
  let chi = 0;
  for (const n of counts.values()) chi += (n - expected) ** 2 / expected;
  assert.ok(chi < 140, `chi-square ${chi.toFixed(1)}`);
});
