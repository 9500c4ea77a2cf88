/**
 * Reading the JSON of a verified answer or a decrypted resource into typed values, strictly:
 * amounts are JSON integers of fen (not strings, not fractions), times RFC 3339, enums one of
 * their values. A field that is not what WeChat documents is `invalid` (`MALFORMED`), naming
 * the field, and no partial result is returned.
 */
import { invalid } from './errors.js';

export type Json = Readonly<Record<string, unknown>>;

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BEIJING_OFFSET_MS = 8 * 3600_000;

/** A reader of one JSON object; every failure names `at` and the field. */
export class Fields {
  constructor(
    readonly at: string,
    readonly json: Json,
  ) {}

  static of(value: unknown, at: string): Fields {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw malformed(at, 'is not a JSON object');
    }
    return new Fields(at, value as Json);
  }

  string(name: string): string {
    const v = this.json[name];
    if (typeof v !== 'string' || v === '')
      throw malformed(this.at, `${name} must be a non-empty string`);
    return v;
  }

  optionalString(name: string): string | undefined {
    const v = this.json[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') throw malformed(this.at, `${name} must be a string`);
    return v;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.string(name);
    if (!(values as readonly string[]).includes(v)) {
      throw malformed(this.at, `${name} is ${JSON.stringify(v)}, not one of ${values.join(', ')}`);
    }
    return v as T;
  }

  /** Whole fen, 0 or more. */
  fen(name: string): number {
    const v = this.json[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw malformed(this.at, `${name} must be a whole number of fen`);
    }
    return v;
  }

  optionalFen(name: string): number | undefined {
    return this.json[name] === undefined || this.json[name] === null ? undefined : this.fen(name);
  }

  time(name: string): Date {
    return parseRfc3339(this.string(name), `${this.at}: ${name}`);
  }

  optionalTime(name: string): Date | undefined {
    const v = this.optionalString(name);
    return v === undefined ? undefined : parseRfc3339(v, `${this.at}: ${name}`);
  }

  object(name: string): Fields {
    return Fields.of(this.json[name], `${this.at}: ${name}`);
  }

  optionalObject(name: string): Fields | undefined {
    const v = this.json[name];
    return v === undefined || v === null ? undefined : Fields.of(v, `${this.at}: ${name}`);
  }
}

/** `2018-06-08T10:34:56+08:00` → a Date; throws `invalid` on anything else. */
export function parseRfc3339(value: string, at: string): Date {
  // Checked by the pattern, then read by position: the notify path reads two per message.
  if (!RFC3339.test(value)) {
    throw malformed(at, `is not an RFC 3339 time: ${JSON.stringify(value.slice(0, 40))}`);
  }
  const y = digits(value, 0, 4);
  const mo = digits(value, 5, 2);
  const d = digits(value, 8, 2);
  const h = digits(value, 11, 2);
  const mi = digits(value, 14, 2);
  const s = digits(value, 17, 2);
  // Date.UTC would roll 02-30 over to March, and 24:00 to the next day.
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || s > 59) {
    throw malformed(at, `is not a valid date: ${JSON.stringify(value)}`);
  }
  const zoneAt = value.length - (value.endsWith('Z') ? 1 : 6);
  const offset =
    zoneAt === value.length - 1
      ? 0
      : (value[zoneAt] === '-' ? -1 : 1) *
        (digits(value, zoneAt + 1, 2) * 60 + digits(value, zoneAt + 4, 2));
  const fraction = zoneAt > 19 ? Math.floor(Number(`0${value.slice(19, zoneAt)}`) * 1000) : 0;
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s) - offset * 60_000 + fraction);
}

/** The number written by `length` ASCII digits at `from` (the pattern checked they are digits). */
function digits(text: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return month === 2 && leap ? 29 : DAYS[month - 1]!;
}

/** A Date as WeChat writes times: RFC 3339 in Beijing time, `2018-06-08T10:34:56+08:00`. */
export function formatRfc3339(date: Date): string {
  return `${new Date(date.getTime() + BEIJING_OFFSET_MS).toISOString().slice(0, 19)}+08:00`;
}

/** Parses JSON text, refusing anything that is not a JSON object. */
export function parseJsonObject(text: string | Buffer, at: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch (err) {
    throw invalid('NOT_JSON', `${at} is not JSON`, { cause: err });
  }
  return Fields.of(value, at).json;
}

export function malformed(at: string, problem: string) {
  return invalid('MALFORMED', `${at}: ${problem}`);
}
