/** The message push configuration, as in the mini program admin (开发管理 → 消息推送). */
import type { PushConfig } from '../../miniprogram-api/index.js';

export interface PushSettings extends Omit<PushConfig, 'maxBytes'> {
  /** How far a push's timestamp may be from our clock. Default 5 minutes. */
  maxAgeMs?: number;
}

export const DEFAULT_PUSH_MAX_AGE_MS = 5 * 60_000;
