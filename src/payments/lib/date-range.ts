/**
 * Dates and instants in admin filters. A date is a Beijing calendar day (UTC+8, no daylight
 * saving), as a merchant in China reads it; an instant is ISO-8601 with a zone. Everything
 * is checked against the calendar (no 2026-02-30) and turned into the stored ISO UTC form,
 * which sorts as text.
 */
import { validation } from './errors.js';

const BEIJING_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

function isCalendarDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** The Beijing day `YYYY-MM-DD` as the UTC instant it starts at; null when not a real date. */
export function beijingDayStart(day: string): Date | null {
  const m = DATE.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 2000 || y > 2999 || !isCalendarDate(y, mo, d)) return null;
  return new Date(Date.UTC(y, mo - 1, d) - BEIJING_OFFSET_MS);
}

/** The Beijing day an instant falls on, `YYYY-MM-DD`. */
export function beijingDayOf(at: Date): string {
  return new Date(at.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 10);
}

/** The day `n` days after `day` (both `YYYY-MM-DD`). */
export function addDays(day: string, n: number): string {
  const start = beijingDayStart(day);
  if (!start) throw new Error(`not a date: ${day}`);
  return beijingDayOf(new Date(start.getTime() + n * DAY_MS));
}

/** Whole days from `from` to `to` (0 when equal, negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const a = beijingDayStart(from);
  const b = beijingDayStart(to);
  if (!a || !b) throw new Error(`not dates: ${from}, ${to}`);
  return Math.round((b.getTime() - a.getTime()) / DAY_MS);
}

/** A Beijing date from a query parameter; a 400 that says the format when it is not one. */
export function parseDay(value: string, field: string): string {
  if (!beijingDayStart(value)) {
    throw validation(
      `${field} must be a date YYYY-MM-DD (Beijing time, year 2000 to 2999), got "${value}"`,
    );
  }
  return value;
}

/** An instant with a zone, e.g. `2026-11-22T08:00:00Z` or `…+08:00`; null when not one. */
function parseInstant(value: string): Date | null {
  const m = INSTANT.exec(value);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as number[];
  if (!isCalendarDate(y!, mo!, d!) || h! > 23 || mi! > 59 || s! > 59) return null;
  if (m[7] !== 'Z' && (Number(m[8]) > 14 || Number(m[9]) > 59)) return null;
  const t = new Date(value);
  return Number.isNaN(t.getTime()) ? null : t;
}

/**
 * One end of a time range, as stored ISO UTC. A date means the whole Beijing day: `from`
 * starts at its first instant, `to` ends after its last (so `from=to=2026-11-22` is that
 * day). An instant is exact: `from` inclusive, `to` exclusive.
 */
export function parseBound(value: string, edge: 'from' | 'to'): string {
  const dayStart = beijingDayStart(value);
  if (dayStart) {
    const at = edge === 'from' ? dayStart : new Date(dayStart.getTime() + DAY_MS);
    return at.toISOString();
  }
  const at = parseInstant(value);
  if (!at) {
    throw validation(
      `${edge} must be a date YYYY-MM-DD (Beijing) or an ISO-8601 time with a zone (2026-11-22T08:00:00Z), got "${value}"`,
    );
  }
  return at.toISOString();
}
