/** Idempotency keys for checkout: random, 128 bits, no Node APIs. */

interface RandomSource {
  getRandomValues<T extends Uint8Array>(array: T): T;
}

/**
 * A new key such as `mp_3f9a…` (35 characters). Uses Web Crypto where the platform has it
 * (browsers, Node, recent base libraries); otherwise Math.random, which is enough here: a key
 * only has to differ from this user's other keys of the last 24 hours.
 */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16);
  const crypto = (globalThis as { crypto?: RandomSource }).crypto;
  if (crypto && typeof crypto.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return `mp_${hex}`;
}
