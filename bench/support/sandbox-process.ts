/**
 * A sandbox in its own process (`minipay sandbox`, quiet), so the WeChat side of a benchmark
 * costs neither the load generator nor the server under test any CPU.
 */
import { DEMO_CREDENTIALS } from '../../src/sandbox/credentials.js';
import { type ChildServer, startChildServer } from './child-server.js';

export { ensureBuilt } from './minipay-process.js';

export function startSandboxProcess(args: string[] = []): Promise<ChildServer> {
  return startChildServer(process.execPath, ['bin/minipay.js', 'sandbox', ...args], {
    MINIPAY_LOG_LEVEL: 'warn',
  });
}

/** A one-time `wx.login` code from a sandbox (for a new user unless `openid` is given). */
export async function loginCode(sandboxUrl: string, openid?: string): Promise<string> {
  const res = await fetch(`${sandboxUrl}/sandbox/v1/login-code`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(openid ? { openid } : {}),
  });
  if (!res.ok) throw new Error(`login-code: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { code: string }).code;
}

export const SANDBOX_CREDENTIALS = DEMO_CREDENTIALS;
