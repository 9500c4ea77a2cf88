/** What one `minipay doctor` check is, sees and finds. */
import type { Config, MerchantCredentials } from '../app/config.js';

export interface DoctorContext {
  /** A live configuration (doctor refuses demo mode before any check runs). */
  config: Config;
  merchant: MerchantCredentials;
  /** This machine's clock (tests skew it). */
  now: () => Date;
  /** Also fetch the notify URL's host from here (it must be serving minipay already). */
  probeNotify: boolean;
}

export interface Finding {
  ok: boolean;
  /** On success what was shown; on failure what is wrong and what to do. */
  message: string;
}

export interface Check {
  /** A few words, printed before the finding. */
  name: string;
  /** Whether it applies to this configuration (default: always). */
  applies?(context: DoctorContext): boolean;
  /** Never throws: every failure is a finding. */
  run(context: DoctorContext): Promise<Finding>;
}

export const pass = (message: string): Finding => ({ ok: true, message });
export const fail = (message: string): Finding => ({ ok: false, message });
