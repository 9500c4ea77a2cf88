/**
 * A throwaway PostgreSQL for tests: initdb into a temp dir, start on a free port, one
 * database per suite, stop and delete at the end. PostgreSQL refuses to run as root, so as
 * root the server runs as the `postgres` user (spawn's uid/gid) in a directory it owns.
 * `startPostgres()` resolves null only when the binaries are missing (callers skip loudly).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface PgCluster {
  /** Creates a fresh database and resolves to its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

const CANDIDATE_BINS = [
  '/usr/lib/postgresql/17/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/15/bin',
];

export function findPostgresBin(): string | null {
  const fromEnv = process.env.MINIPAY_PG_BIN;
  for (const dir of fromEnv ? [fromEnv] : CANDIDATE_BINS) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return dir;
  }
  try {
    const initdb = execFileSync('which', ['initdb'], { encoding: 'utf8' }).trim();
    return initdb ? initdb.replace(/\/initdb$/, '') : null;
  } catch {
    return null;
  }
}

/** Why PostgreSQL tests are skipped, or null when they can run. */
export function postgresSkipReason(): string | null {
  return findPostgresBin()
    ? null
    : 'PostgreSQL server binaries (initdb, postgres) not found: install postgresql (Debian: apt-get install postgresql) or set MINIPAY_PG_BIN';
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

export async function startPostgres(): Promise<PgCluster | null> {
  const bin = findPostgresBin();
  if (!bin) return null;
  const dir = mkdtempSync(join(tmpdir(), 'minipay-pg-'));
  const user = runAs();
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'minipay', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C'],
    { ...user, stdio: 'pipe', cwd: dir },
  );
  const port = await freePort();
  const child: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-h',
      '127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=200',
    ],
    { ...user, stdio: ['ignore', 'ignore', 'pipe'], cwd: dir },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const cleanup = () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  const admin = `postgres://minipay@127.0.0.1:${port}/postgres`;
  await waitForServer(admin, child, () => stderr);
  let count = 0;
  return {
    async createDatabase(name) {
      const db = name ?? `t${process.pid}_${++count}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return `postgres://minipay@127.0.0.1:${port}/${db}`;
    },
    async stop() {
      process.removeListener('exit', cleanup);
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGINT'); // fast shutdown
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      }
      cleanup();
    },
  };
}

async function waitForServer(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited early:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`postgres did not start in 30 s:\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
