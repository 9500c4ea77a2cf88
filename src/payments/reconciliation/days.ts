/**
 * Beijing calendar days (`yyyy-MM-dd`), the unit of WeChat's bills: a day runs from 00:00 to
 * 24:00 +08:00 (China keeps no daylight saving time).
 */
import { validation } from '../lib/errors.js';

const DAY_MS = 86_400_000;
const BEIJING_OFFSET_MS = 8 * 3600_000;

/** The first instant of `day` and of the next, as ISO-8601 (how the ledger stores times). */
export function beijingDay(day: string): { start: string; end: string } {
  const start = dayStart(day);
  return {
    start: new Date(start).toISOString(),
    end: new Date(start + DAY_MS).toISOString(),
  };
}

/** Whether `day` is a real calendar day written `yyyy-MM-dd`. */
export function isDay(day: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.toISOString().slice(0, 10) === day;
}

function dayStart(day: string): number {
  if (!isDay(day)) throw validation(`not a day (yyyy-MM-dd): ${JSON.stringify(day).slice(0, 40)}`);
  return Date.parse(`${day}T00:00:00Z`) - BEIJING_OFFSET_MS;
}

/** The Beijing day `at` falls on. */
export function dayOf(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The day `n` days after `day` (before, when negative). */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Hours into its Beijing day `at` is. */
export function beijingHour(at: Date): number {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).getUTCHours();
}
