import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newId, newIds, newToken } from '../../../src/payments/lib/ids.js';

test('ids: prefix, 22 base62 characters, no repeats across pool refills', () => {
  const seen = new Set<string>();
  // 20,000 ids draw ~470 KB of random bytes: the 4 KiB pool is refilled over a hundred times.
  for (let i = 0; i < 20_000; i++) {
    const id = newId('ord');
    assert.match(id, /^ord_[0-9A-Za-z]{22}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 20_000);
  assert.match(newToken(), /^[A-Za-z0-9_-]{43}$/);
});

test('ids: sort by creation time as text, whatever the random part', () => {
  const times = [0, 61, 62, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 62 ** 8 - 1];
  const ids = times.map((t) => newId('evt', t));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(newId('evt', 0).slice(4, 12), '00000000');
  assert.equal(newId('evt', 62 ** 8 - 1).slice(4, 12), 'zzzzzzzz');
  // Made in the same millisecond: same time part, different random part.
  const [a, b] = [newId('evt', 1_700_000_000_000), newId('evt', 1_700_000_000_000)];
  assert.equal(a.slice(0, 12), b.slice(0, 12));
  assert.notEqual(a, b);
});

test('ids: every random character about equally likely (no modulo bias)', () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 10_000; i++) {
    for (const c of newId('t').slice(10)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  assert.equal(counts.size, 62);
  const expected = (10_000 * 14) / 62;
  // Chi-square with 61 degrees of freedom: above 140 by chance has p < 10^-7.
  let chi = 0;
  for (const n of counts.values()) chi += (n - expected) ** 2 / expected;
  assert.ok(chi < 140, `chi-square ${chi.toFixed(1)}`);
});

test('ids: a batch of ids ascends in the order given', () => {
  const ids = newIds('msg', 500);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, 500);
});
