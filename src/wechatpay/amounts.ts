/**
 * Money on the wire, without floats: v2 fields carry integer fen as digits; bills carry yuan
 * with 2 decimals (fees with 5). Every parser is strict: digits only, no sign, no exponent,
 * no spaces, no leading zeros, within Number.MAX_SAFE_INTEGER.
 */

const FEN = /^(0|[1-9][0-9]{0,15})$/;

/** The most one payment or refund can carry: `total_fee` and `refund_fee` are Int (32-bit). */
export const MAX_TOTAL_FEE = 2_147_483_647;

/** A v2 amount field (`total_fee`, `refund_fee`, ...) as integer fen; throws RangeError. */
export function parseFen(name: string, value: string | undefined): number {
  if (value === undefined || !FEN.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new RangeError(`${name} must be a whole number of fen, got ${JSON.stringify(value)}`);
  }
  return Number(value);
}

/** Like `parseFen`, but `undefined` / `''` give `undefined`. */
export function parseOptionalFen(name: string, value: string | undefined): number | undefined {
  return value === undefined || value === '' ? undefined : parseFen(name, value);
}

/**
 * A yuan amount with exactly `decimals` decimals (`6.00`, `-0.04000`) as an integer of
 * 10^-decimals yuan: `yuanToUnits('6.00', 2)` = 600 fen, `yuanToUnits('0.04000', 5)` = 4000
 * (1/1000 fen).
 */
export function yuanToUnits(value: string, decimals: number): number {
  const units = digitsToUnits(value, decimals);
  if (units === undefined) {
    throw new RangeError(`not a yuan amount with ${decimals} decimals: ${JSON.stringify(value)}`);
  }
  if (!Number.isSafeInteger(units)) throw new RangeError(`amount too large: ${value}`);
  return units;
}

/**
 * `-?(0|[1-9][0-9]{0,12})\.[0-9]{decimals}` read digit by digit (bills hold millions of
 * amounts), or undefined when `value` is not that.
 */
function digitsToUnits(value: string, decimals: number): number | undefined {
  const negative = value.charCodeAt(0) === 45;
  const start = negative ? 1 : 0;
  const dot = value.length - decimals - 1;
  const whole = dot - start;
  if (decimals < 1 || whole < 1 || whole > 13 || value.charCodeAt(dot) !== 46) return undefined;
  if (whole > 1 && value.charCodeAt(start) === 48) return undefined;
  let units = 0;
  for (let i = start; i < value.length; i++) {
    if (i === dot) continue;
    const digit = value.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return undefined;
    units = units * 10 + digit;
  }
  return negative && units !== 0 ? -units : units;
}

/** The inverse of `yuanToUnits`: 600 fen → `6.00`; -4000 (1/1000 fen), 5 → `-0.04000`. */
export function unitsToYuan(units: number, decimals: number): string {
  if (!Number.isSafeInteger(units)) throw new RangeError(`not a whole amount: ${units}`);
  const sign = units < 0 ? '-' : '';
  const digits = String(Math.abs(units)).padStart(decimals + 1, '0');
  return `${sign}${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
}

/** Fen → `yuan.2` (bill amounts). */
export function fenToYuan(fen: number): string {
  return unitsToYuan(fen, 2);
}

/** `yuan.2` → fen. */
export function yuanToFen(value: string): number {
  return yuanToUnits(value, 2);
}
