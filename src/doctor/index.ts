/**
 * `minipay doctor`: before going live, checks the keys, the credentials against WeChat, the
 * clock, the notify URL and the database, one finding each. A new check is a `Check` added to
 * CHECKS (each says with `applies` whether it concerns APIv2 or APIv3).
 */

import { clientCertificateCheck } from './certificate-check.js';
import type { Check, DoctorContext, Finding } from './check.js';
import { databaseCheck } from './database-check.js';
import { keyChecks } from './key-checks.js';
import { notifyChecks } from './notify-url-checks.js';
import { wechatChecks } from './wechat-checks.js';
import { v3CredentialsCheck } from './wechat-v3-checks.js';

export type { Check, DoctorContext, Finding } from './check.js';

/** Every check, in the order printed. */
export const CHECKS: readonly Check[] = [
  ...keyChecks,
  v3CredentialsCheck,
  clientCertificateCheck,
  ...wechatChecks,
  ...notifyChecks,
  databaseCheck,
];

export interface Report {
  name: string;
  finding: Finding;
}

/** Runs the checks that apply, one after another (their lines come out in order). */
export async function runChecks(
  context: DoctorContext,
  checks: readonly Check[] = CHECKS,
  onReport: (report: Report) => void = () => undefined,
): Promise<Report[]> {
  const reports: Report[] = [];
  for (const check of checks) {
    if (check.applies && !check.applies(context)) continue;
    let finding: Finding;
    try {
      finding = await check.run(context);
    } catch (err) {
      finding = { ok: false, message: `the check itself failed: ${(err as Error).message}` };
    }
    const report = { name: check.name, finding };
    reports.push(report);
    onReport(report);
  }
  return reports;
}

/** One line: ✓ or ✗, the check's name, its finding. */
export function reportLine({ name, finding }: Report): string {
  return `${finding.ok ? '✓' : '✗'} ${name}: ${finding.message}`;
}
