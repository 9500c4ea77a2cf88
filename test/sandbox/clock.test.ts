import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SandboxClock } from '../../src/sandbox/clock.js';
import { DueTimer } from '../../src/sandbox/due-timer.js';

describe('sandbox clock', () => {
  test('is real time plus an offset that only grows', () => {
    let real = 1_000;
    const clock = new SandboxClock(500, () => real);
    assert.equal(clock.now(), 1_500);
    real = 2_000;
    clock.advance(250);
    assert.equal(clock.now(), 2_750);
    assert.equal(clock.offset, 750);
    for (const bad of [-1, 0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => clock.advance(bad), /only moves forward/);
    }
    assert.equal(clock.offset, 750);
  });

  test('listeners hear every jump until removed', () => {
    const clock = new SandboxClock();
    let heard = 0;
    const off = clock.onAdvance(() => heard++);
    clock.advance(1);
    clock.advance(0);
    off();
    clock.advance(1);
    assert.equal(heard, 2);
  });
});

describe('due timer', () => {
  test('runs what is due when the clock jumps to it, and re-arms for the next', async () => {
    let real = 0;
    const clock = new SandboxClock(0, () => real);
    const due = [10_000, 20_000];
    const ran: number[] = [];
    const timer = new DueTimer(
      clock,
      () => due[0],
      () => {
        while (due[0] !== undefined && due[0] <= clock.now()) ran.push(due.shift()!);
      },
    );
    timer.arm();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ran, [], 'nothing is due yet');
    clock.advance(10_000);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ran, [10_000]);
    real = 20_000;
    timer.arm();
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ran, [10_000, 20_000]);
    timer.stop();
    due.push(0);
    clock.advance(1);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ran, [10_000, 20_000], 'a stopped timer never runs again');
  });
});
