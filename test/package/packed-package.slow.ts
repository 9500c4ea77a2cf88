/**
 * The npm package as a merchant (and the Dockerfile) gets it: `npm pack` in a copy of the
 * sources (its prepare script builds), `npm install --omit=dev` of the tarball in an empty
 * directory, then the Dockerfile's ENTRYPOINT, CMD and HEALTHCHECK run from that install:
 * `minipay migrate`, `minipay start`, the web pages, the health check.
 *
 * Slow (better-sqlite3 compiles from source when no prebuilt binary can be downloaded, about
 * a minute), so it is not in `npm test`: `npm run test:package` runs it, and so does CI.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  return new Promise<Finished>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The Dockerfile's instruction `name` as its exec-form argument list (HEALTHCHECK: its CMD). */
function dockerfileExec(name: 'ENTRYPOINT' | 'CMD' | 'HEALTHCHECK'): string[] {
  const lines = readFileSync(join(repo, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ').split('\n');
  const last = lines.filter((l) => l.startsWith(`${name} `)).at(-1);
  assert.ok(last, `the Dockerfile has ${name}`);
  const json =
    name === 'HEALTHCHECK' ? last.slice(last.indexOf(' CMD ') + 5) : last.slice(name.length);
  return JSON.parse(json.trim()) as string[];
}

/** Tracked and new (not ignored) files: what `COPY . .` takes, less .dockerignore's. */
function copySources(to: string): void {
  const files = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '-z'],
    {
      cwd: repo,
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter((f) => f !== '');
  for (const file of files) {
    try {
      mkdirSync(dirname(join(to, file)), { recursive: true });
      cpSync(join(repo, file), join(to, file));
    } catch (err) {
      // A file deleted in the work tree but still tracked: the package does not have it either.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  // The build stage's `npm install`: the repository's own, already installed.
  symlinkSync(join(repo, 'node_modules'), join(to, 'node_modules'));
}

describe('the packed npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'minipay-pack-'));
  const sources = join(dir, 'src');
  // The Dockerfile installs into /app; here /app is this directory.
  const app = join(dir, 'app');
  let files: string[] = [];
  let install: Finished;
  let server: ChildProcess | undefined;
  after(() => {
    server?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  before(async () => {
    copySources(sources);
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], sources);
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\[$/m))) as {
      filename: string;
      files: { path: string }[];
    }[];
    files = (info?.files ?? []).map((f) => f.path);
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
    install = await run(
      'npm',
      [
        'install',
        '--omit=dev',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        join(dir, info!.filename),
      ],
      app,
    );
    assert.equal(install.code, 0, install.stderr);
  });

  test('holds the command, the compiled server and the built pages, and no sources or tests', () => {
    for (const path of [
      'bin/minipay.js',
      'dist/src/cli/main.js',
      // Plain JavaScript copied by the build: the worker runs without tsx.
      'dist/src/store/wal-checkpoint-worker.mjs',
      'dist/web/demo/index.html',
      'dist/web/admin/index.html',
    ]) {
      assert.ok(files.includes(path), `the package has ${path}`);
    }
    assert.ok(
      files.some((f) => /^dist\/web\/assets\/.+\.js$/.test(f)),
      'the pages’ scripts',
    );
    assert.deepEqual(
      files.filter(
        (f) =>
          /^(src|test|web|scripts|bench)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')),
      ),
      [],
    );
  });

  test('runs as the Dockerfile runs it: migrate, start, the pages, the health check', async () => {
    const [node, entry, ...entryArgs] = dockerfileExec('ENTRYPOINT');
    assert.equal(node, 'node');
    const bin = entry!.replace(/^\/app\//, `${app}/`);
    const env = {
      MINIPAY_DATABASE_URL: `sqlite:${join(dir, 'data', 'minipay.sqlite')}`,
      MINIPAY_HOST: '127.0.0.1',
      MINIPAY_PORT: '0',
      MINIPAY_LOG_LEVEL: 'warn',
      NODE_ENV: 'production',
    };
    const migrated = await run(process.execPath, [bin, ...entryArgs, 'migrate'], dir, env);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /done: \d+ applied/);

    server = spawn(process.execPath, [bin, ...entryArgs, ...dockerfileExec('CMD')], {
      cwd: dir,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    server.stdout?.on('data', (d) => {
      stdout += d;
    });
    server.stderr?.on('data', (d) => {
      stderr += d;
    });
    let base: string | undefined;
    while (!base) {
      if (server.exitCode !== null) assert.fail(`minipay start exited: ${stderr}`);
      base = /Mini program API\s+(http:\/\/127\.0\.0\.1:\d+)\/api\/v1/.exec(stdout)?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }

    for (const page of ['/admin/', '/demo/']) {
      const res = await fetch(base + page);
      assert.equal(res.status, 200, page);
      assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
      const html = await res.text();
      const script = /<script[^>]+src="([^"]+\.js)"/.exec(html)?.[1];
      assert.ok(script, `${page} loads a script`);
      const asset = await fetch(new URL(script, base + page));
      assert.equal(asset.status, 200, `${page} ${script}`);
    }
    const health = await fetch(`${base}/healthz`);
    assert.deepEqual([health.status, await health.json()], [200, { ok: true }]);

    const [hcNode, ...hcArgs] = dockerfileExec('HEALTHCHECK');
    assert.equal(hcNode, 'node');
    const port = new URL(base).port;
    const healthy = await run(process.execPath, hcArgs, dir, { MINIPAY_PORT: port });
    assert.equal(healthy.code, 0, `the image's health check passes: ${healthy.stderr}`);

    server.kill('SIGTERM');
    const [code] = await once(server, 'exit');
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /\(node:\d+\)|Warning/, 'no warning at start-up');
    assert.doesNotMatch(
      stdout + stderr,
      /WAL checkpoints in the background failed/,
      'the checkpoint worker runs from the installed package',
    );
    const unhealthy = await run(process.execPath, hcArgs, dir, { MINIPAY_PORT: port });
    assert.equal(unhealthy.code, 1, 'the health check fails once the server is gone');
  });
});
