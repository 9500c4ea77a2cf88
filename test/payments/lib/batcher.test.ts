/** The batcher: items read together share a batch; a key is never in two batches at once. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher } from '../../../src/payments/lib/batcher.js';

interface Item {
  id: number;
  key: string;
}

/** A handler whose batches settle when the test says; records each batch and the overlap. */
function gated() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  let running = 0;
  let mostAtOnce = 0;
  const handle = async (items: Item[]) => {
    batches.push(items.map((i) => i.id));
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
    return items.map((i) => `done ${i.id}`);
  };
  const release = async () => {
    while (gates.length === 0) await new Promise((r) => setImmediate(r));
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  };
  return { batches, handle, release, mostAtOnce: () => mostAtOnce };
}

const item = (id: number, key = `k${id}`): Item => ({ id, key });

test('one lane: items read in one turn share a batch; later ones make the next', async () => {
  const g = gated();
  const b = new Batcher<Item, string>(g.handle, (i) => [i.key]);
  const first = [1, 2, 3].map((id) => b.add(item(id)));
  await new Promise((r) => setImmediate(r));
  const later = [4, 5].map((id) => b.add(item(id)));
  await g.release();
  await g.release();
  assert.deepEqual(
    await Promise.all([...first, ...later]),
    [1, 2, 3, 4, 5].map((i) => `done ${i}`),
  );
  assert.deepEqual(g.batches, [
    [1, 2, 3],
    [4, 5],
  ]);
  assert.equal(g.mostAtOnce(), 1);
});

test('two lanes: a second batch runs beside the first, never with a key the first holds', async () => {
  const g = gated();
  const b = new Batcher<Item, string>(g.handle, (i) => [i.key], 64, 2);
  const a = [b.add(item(1, 'A')), b.add(item(2, 'B'))];
  await new Promise((r) => setImmediate(r));
  // Read while the first batch runs: 3 takes the second lane; 4 shares key A, so it waits.
  const c = [b.add(item(3, 'C')), b.add(item(4, 'A'))];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(g.batches, [[1, 2], [3]]);
  assert.equal(g.mostAtOnce(), 2);
  await g.release(); // the first batch settles: A is free, 4 runs next
  await g.release();
  await g.release();
  assert.deepEqual(
    await Promise.all([...a, ...c]),
    [1, 2, 3, 4].map((i) => `done ${i}`),
  );
  assert.deepEqual(g.batches, [[1, 2], [3], [4]]);
});

test('a failed batch rejects its own items only', async () => {
  const b = new Batcher<Item, string>(
    async (items) => {
      if (items.some((i) => i.id === 2)) throw new Error('refused');
      return items.map((i) => `ok ${i.id}`);
    },
    (i) => [i.key],
    64,
    2,
  );
  const one = b.add(item(1));
  const two = b.add(item(2));
  await assert.rejects(two, /refused/);
  await assert.rejects(one, /refused/, 'same batch');
  assert.equal(await b.add(item(3)), 'ok 3');
});
