/**
 * A server under benchmark, in its own process: started, waited for until it prints its URL,
 * watched for resident memory, stopped. Separate processes keep the load generator's CPU and
 * memory out of the server's figures.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ChildServer {
  readonly url: string;
  readonly pid: number;
  /** Starts sampling resident memory every 100 ms; the returned function stops and gives the peak (MiB). */
  watchRss(): () => number;
  /** Resident memory right now, MiB. */
  rss(): number;
  /** CPU time the process has used so far (user + system), seconds, 10 ms resolution. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const URL_IN_OUTPUT = /https?:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d+/;

export interface ChildOptions {
  timeoutMs?: number;
  /** Where the server's URL is in its output: group 1, else the whole match (default: the first loopback URL). */
  urlPattern?: RegExp;
}

/** Spawns `command args`, resolves once a line of its output names its URL. */
export async function startChildServer(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  options: ChildOptions = {},
): Promise<ChildServer> {
  const { timeoutMs = 60_000, urlPattern = URL_IN_OUTPUT } = options;
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`no URL within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: ${err.message}\n${output.join('')}`));
    };
    let seen = '';
    const look = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (output.length < 200) output.push(text);
      seen = (seen + text).slice(-8192);
      const m = urlPattern.exec(seen);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', look);
        child.stderr?.off('data', look);
        child.off('exit', exited);
        resolve(m[1] ?? m[0]);
      }
    };
    const exited = (code: number | null) => fail(new Error(`exited with ${code} before listening`));
    child.stdout?.on('data', look);
    child.stderr?.on('data', look);
    child.once('exit', exited);
    child.once('error', fail);
  });
  // Keep draining output (unread: a chatty server's logs cost the load generator nothing) so it
  // never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  const pid = child.pid as number;
  return {
    url,
    pid,
    rss: () => rssMiB(pid),
    cpuSeconds: () => cpuSeconds(pid),
    watchRss() {
      let peak = rssMiB(pid);
      const timer = setInterval(() => {
        peak = Math.max(peak, rssMiB(pid));
      }, 100);
      return () => {
        clearInterval(timer);
        return Math.max(peak, rssMiB(pid));
      };
    },
    stop: () => stopChild(child),
  };
}

function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? 0 : Number(kb) / 1024;
  } catch {
    return 0;
  }
}

/** utime + stime from /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
