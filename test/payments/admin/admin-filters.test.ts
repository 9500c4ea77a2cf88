import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addDays,
  beijingDayOf,
  beijingDayStart,
  daysBetween,
  parseBound,
} from '../../../src/payments/lib/date-range.js';
import { DomainError } from '../../../src/payments/lib/errors.js';
import {
  decodeSeqCursor,
  decodeTimeCursor,
  encodeSeqCursor,
  encodeTimeCursor,
  parseLimit,
} from '../../../src/payments/lib/page-cursor.js';
import { parseStatusFilter } from '../../../src/payments/lib/status-filter.js';

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(
    fn,
    (err) => err instanceof DomainError && err.status === 400 && message.test(err.message),
  );

test('Beijing days: start at 16:00 UTC the day before, real calendar dates only', () => {
  assert.equal(beijingDayStart('2026-11-22')?.toISOString(), '2026-11-21T16:00:00.000Z');
  assert.equal(beijingDayStart('2028-02-29')?.toISOString(), '2028-02-28T16:00:00.000Z');
  for (const bad of [
    '2026-02-29',
    '2026-02-30',
    '2026-13-01',
    '2026-00-10',
    '26-11-22',
    '2026-11-22 ',
  ]) {
    assert.equal(beijingDayStart(bad), null, bad);
  }
  assert.equal(beijingDayOf(new Date('2026-11-21T15:59:59.999Z')), '2026-11-21');
  assert.equal(beijingDayOf(new Date('2026-11-21T16:00:00.000Z')), '2026-11-22');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
  assert.equal(daysBetween('2026-01-01', '2027-01-01'), 365);
});

test('range bounds: a date is the whole Beijing day, an instant is exact, anything else is refused', () => {
  assert.equal(parseBound('2026-11-22', 'from'), '2026-11-21T16:00:00.000Z');
  assert.equal(parseBound('2026-11-22', 'to'), '2026-11-22T16:00:00.000Z');
  assert.equal(parseBound('2026-11-22T08:00:00+08:00', 'from'), '2026-11-22T00:00:00.000Z');
  assert.equal(parseBound('2026-11-22T08:00Z', 'to'), '2026-11-22T08:00:00.000Z');
  assert.equal(parseBound('2026-11-22T08:00:00.123456Z', 'to'), '2026-11-22T08:00:00.123Z');
  for (const bad of [
    'today',
    '2026-11-22T08:00:00',
    '2026-02-30T00:00:00Z',
    '2026-11-22T24:00:00Z',
    '2026-11-22T08:00:00+25:00',
    '1763798400',
  ]) {
    refused(() => parseBound(bad, 'from'), /from must be a date/);
  }
});

test('cursors round-trip, belong to one list, and refuse anything forged', () => {
  const key = { at: '2026-11-22T08:00:00.000Z', id: 'ord_abc' };
  assert.deepEqual(decodeTimeCursor('orders', encodeTimeCursor('orders', key)), key);
  assert.equal(decodeSeqCursor('events', encodeSeqCursor('events', 42)), 42);
  refused(() => decodeTimeCursor('anomalies', encodeTimeCursor('orders', key)), /cursor/);
  refused(() => decodeSeqCursor('orders', encodeSeqCursor('events', 42)), /cursor/);
  const forge = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  for (const bad of [
    '',
    '!!!',
    'a'.repeat(301),
    forge(['orders', 'yesterday', 'ord_a']),
    forge(['orders', key.at, "x' OR 1=1"]),
    forge(['orders', key.at, 'ord_a', 'extra']),
    forge({ list: 'orders' }),
  ]) {
    refused(() => decodeTimeCursor('orders', bad), /cursor/);
  }
  for (const bad of [forge(['events', 0]), forge(['events', 1.5]), forge(['events', '7'])]) {
    refused(() => decodeSeqCursor('events', bad), /cursor/);
  }
});

test('limit: 1 to 100, default 50', () => {
  assert.equal(parseLimit(undefined), 50);
  assert.equal(parseLimit('1'), 1);
  assert.equal(parseLimit('100'), 100);
  for (const bad of ['0', '101', '1000', '-1', '1.5', 'abc', '', '1e2']) {
    refused(() => parseLimit(bad), /limit must be a whole number from 1 to 100/);
  }
});

test('status filter: a comma-separated list of known statuses, any case, each once', () => {
  const refunds = ['PENDING', 'SUCCESS', 'FAILED'] as const;
  const deliveries = ['pending', 'dead'] as const;
  assert.equal(parseStatusFilter(undefined, refunds), undefined);
  assert.deepEqual(parseStatusFilter('SUCCESS,FAILED', refunds), ['SUCCESS', 'FAILED']);
  assert.deepEqual(parseStatusFilter(' success , SUCCESS', refunds), ['SUCCESS']);
  assert.deepEqual(parseStatusFilter('DEAD,pending', deliveries), ['dead', 'pending']);
  for (const bad of ['', 'SUCCESS,', ',', 'DONE', 'SUCCESS,DONE', "SUCCESS' OR 1=1"]) {
    refused(
      () => parseStatusFilter(bad, refunds),
      /^status must be a comma-separated list of PENDING, SUCCESS, FAILED; ".*" is not one$/,
    );
  }
  refused(() => parseStatusFilter('bogus', deliveries), /"bogus" is not one/);
});
