/**
 * What every part of a running sandbox shares: its state, clock, credentials, settings and
 * fault switches.
 */
import { randomInt } from 'node:crypto';
import type { SandboxClock } from './clock.js';
import type { Credentials } from './credentials.js';
import {
  type AnswerSignatureFault,
  defaultFaults,
  type Faults,
  type MchEndpoint,
  mergeFaults,
  type PlatformEndpoint,
  spendAnswerSignature,
  spendErrCode,
  spendPlatformErrcode,
  type V3Endpoint,
} from './faults.js';
import { SeededRandom } from './random.js';
import type { SandboxState } from './state/sandbox-state.js';
import type { V3Platform } from './v3-platform.js';

/** Behaviour settings fixed at start-up. */
export interface SandboxConfig {
  /** Divides WeChat's notify retry schedule and refund processing delay. */
  timeScale: number;
  /**
   * `closeorder` refuses trades younger than this WeChat time (5 minutes; divided by
   * `timeScale`, like every WeChat delay); 0 = off.
   */
  closeMinAgeMs: number;
  /** Two refunds of one trade must be this much WeChat time apart (1 minute, scaled); 0 = off. */
  refundIntervalMs: number;
  /** A merchant has this long to answer a notification (real ms, not scaled). */
  notifyTimeoutMs: number;
  /** The refund notify URL "configured in the merchant portal", used when a refund has none. */
  refundNotifyUrl: string | undefined;
}

const FAULTS_KEY = 'faults';

/** Current fault settings and the seeded random streams they draw from; persisted in state. */
export class FaultSwitch {
  private current: Faults;
  private rng: SeededRandom;

  constructor(
    private readonly state: SandboxState,
    initial: unknown,
  ) {
    const stored = state.getMeta(FAULTS_KEY);
    const base = stored
      ? mergeFaults(defaultFaults(0), JSON.parse(stored))
      : defaultFaults(randomInt(0x7fffffff));
    this.current = mergeFaults(base, initial ?? {});
    this.rng = new SeededRandom(this.current.seed);
    this.persist();
  }

  get faults(): Faults {
    return this.current;
  }

  get random(): SeededRandom {
    return this.rng;
  }

  /** Merges `change` (validated) and returns the new settings; a new seed restarts the streams. */
  set(change: unknown): Faults {
    const next = mergeFaults(this.current, change);
    const reseed =
      next.seed !== this.current.seed ||
      (typeof change === 'object' && change !== null && 'seed' in change);
    this.current = next;
    if (reseed) this.rng = new SeededRandom(next.seed);
    this.persist();
    return next;
  }

  /** The err_code armed for the next call of `path` (errCodes), spending one; else undefined. */
  spendErrCode(path: MchEndpoint): string | undefined {
    const spent = spendErrCode(this.current, path);
    if (!spent) return undefined;
    this.current = spent.faults;
    this.persist();
    return spent.errCode;
  }

  /** The signature fault armed for the next answer of a v3 path (answerSignatures), spent. */
  spendAnswerSignature(path: V3Endpoint): AnswerSignatureFault | undefined {
    const spent = spendAnswerSignature(this.current, path);
    if (!spent) return undefined;
    this.current = spent.faults;
    this.persist();
    return spent.fault;
  }

  /** The errcode armed for the next call of a platform path (platformErrcodes), spending one. */
  spendPlatformErrcode(path: PlatformEndpoint): number | undefined {
    const spent = spendPlatformErrcode(this.current, path);
    if (!spent) return undefined;
    this.current = spent.faults;
    this.persist();
    return spent.errcode;
  }

  /** Whether this closeorder answers SUCCESS without closing (closeLeavesNotpay), spending one. */
  spendCloseLeavesNotpay(): boolean {
    if (this.current.closeLeavesNotpay === 0) return false;
    this.current = { ...this.current, closeLeavesNotpay: this.current.closeLeavesNotpay - 1 };
    this.persist();
    return true;
  }

  private persist(): void {
    this.state.setMeta(FAULTS_KEY, JSON.stringify(this.current));
  }
}

/** A WeChat duration as the sandbox runs it: divided by `timeScale`. */
export function scaled(config: SandboxConfig, ms: number): number {
  return ms / config.timeScale;
}

export interface SandboxCore {
  state: SandboxState;
  clock: SandboxClock;
  credentials: Credentials;
  config: SandboxConfig;
  faults: FaultSwitch;
  /** APIv3 key material: WeChat's platform keys and the merchant's public key. */
  v3: V3Platform;
}
