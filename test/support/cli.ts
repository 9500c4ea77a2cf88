/** Runs the `minipay` command from the TypeScript sources in a child process, for CLI tests. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { SandboxServer } from './sandbox-server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Runs `minipay <args>` from the TypeScript sources in a child process. */
export function minipay(args: string[], env: Record<string, string> = {}) {
  const script = `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(${JSON.stringify(args)}); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    env: { ...process.env, MINIPAY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return {
    child,
    output: () => ({ stdout, stderr }),
    async waitFor(pattern: RegExp): Promise<RegExpExecArray> {
      for (;;) {
        const m = pattern.exec(stdout);
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`exited early: ${stderr}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Runs `minipay <args>` to its end: its exit code and what it printed. */
export async function minipayExit(args: string[], env: Record<string, string> = {}) {
  const cli = minipay(args, env);
  const [code] = await once(cli.child, 'exit');
  return { code: code as number, ...cli.output() };
}

/** The merchant variables of a one-shot command against `s`'s sandbox and `databaseUrl`. */
export function merchantEnv(s: SandboxServer, databaseUrl: string): Record<string, string> {
  const c = s.sandbox.credentials;
  return {
    MINIPAY_DATABASE_URL: databaseUrl,
    MINIPAY_APPID: c.appId,
    MINIPAY_APPSECRET: c.appSecret,
    MINIPAY_MCHID: c.mchId,
    MINIPAY_MCH_KEY: c.mchKey,
    MINIPAY_NOTIFY_BASE_URL: 'http://127.0.0.1:9',
    MINIPAY_WECHATPAY_BASE_URL: s.sandbox.url,
    MINIPAY_WECHATPAY_BACKUP_BASE_URL: '',
    MINIPAY_WECHAT_API_BASE_URL: s.sandbox.url,
    MINIPAY_WECHAT_API_BACKUP_BASE_URL: '',
  };
}
