/**
 * Seeded randomness for fault injection. Each purpose (notifications, each endpoint) draws
 * from its own stream derived from the seed, so faults on one endpoint do not shift the
 * choices made for another, and a failing run replays exactly with the same seed.
 * Not for anything secret: ids and keys use node:crypto.
 */

/** A reproducible stream of numbers in [0, 1). */
export interface RandomStream {
  next(): number;
}

/** mulberry32: 32-bit state, passes the usual statistical batteries, tiny and fast. */
function mulberry32(seed: number): RandomStream {
  let a = seed >>> 0;
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}

/** FNV-1a over the stream name, mixed into the seed. */
function streamSeed(seed: number, name: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Named, independent streams from one seed. */
export class SeededRandom {
  private readonly streams = new Map<string, RandomStream>();

  constructor(readonly seed: number) {}

  /** True with probability `rate` (0 never draws, so it never disturbs the stream). */
  chance(stream: string, rate: number): boolean {
    if (rate <= 0) return false;
    return this.stream(stream).next() < rate;
  }

  /** A whole number in [0, max). */
  below(stream: string, max: number): number {
    return Math.floor(this.stream(stream).next() * max);
  }

  private stream(name: string): RandomStream {
    let s = this.streams.get(name);
    if (!s) {
      s = mulberry32(streamSeed(this.seed, name));
      this.streams.set(name, s);
    }
    return s;
  }
}
