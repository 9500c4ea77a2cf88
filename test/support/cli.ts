/** Runs the `minipay` command from the TypeScript sources in a child process, for CLI tests. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
