import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retrying } from '../../../src/payments/lib/retry.js';

class Busy extends Error {}

/** A call that fails with the given errors, then answers 'ok'; counts its calls. */
function flaky(...errors: Error[]) {
  const call = async () => {
    call.calls++;
    const err = errors.shift();
    if (err) throw err;
    return 'ok';
  };
  call.calls = 0;
  return call;
}

const busy = (err: unknown) => err instanceof Busy;

test('retrying calls again while the failure is retryable, up to the attempts', async () => {
  const call = flaky(new Busy(), new Busy());
  assert.equal(await retrying(call, { attempts: 3, delayMs: 0 }, busy), 'ok');
  assert.equal(call.calls, 3);

  const tooFew = flaky(new Busy(), new Busy());
  await assert.rejects(retrying(tooFew, { attempts: 2, delayMs: 0 }, busy), Busy);
  assert.equal(tooFew.calls, 2);
});

test('retrying throws at once what is not retryable', async () => {
  const call = flaky(new TypeError('a bug'));
  await assert.rejects(retrying(call, { attempts: 5, delayMs: 0 }, busy), TypeError);
  assert.equal(call.calls, 1);
});

test('one attempt is one call', async () => {
  const call = flaky(new Busy());
  await assert.rejects(retrying(call, { attempts: 1, delayMs: 1 }, busy), Busy);
  assert.equal(call.calls, 1);
});
