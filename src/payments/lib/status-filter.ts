/** `?status=A,B` on the admin lists: the same parsing and the same refusal for every list. */
import { validation } from './errors.js';

/**
 * A comma-separated list of `allowed` statuses, in any case (`paid` is `PAID`), each kept once;
 * `undefined` when there is no filter. Empty, or anything unknown, is refused.
 */
export function parseStatusFilter<S extends string>(
  value: string | undefined,
  allowed: readonly S[],
): S[] | undefined {
  if (value === undefined) return undefined;
  const byName = new Map(allowed.map((s) => [s.toUpperCase(), s]));
  const wanted = value.split(',').map((s) => s.trim());
  const unknown = wanted.filter((s) => !byName.has(s.toUpperCase()));
  if (unknown.length > 0) {
    throw validation(
      `status must be a comma-separated list of ${allowed.join(', ')}; "${unknown.join(',')}" is not one`,
    );
  }
  return [...new Set(wanted.map((s) => byName.get(s.toUpperCase())!))];
}
