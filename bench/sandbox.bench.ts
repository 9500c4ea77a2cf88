/**
 * Sandbox throughput: orderquery (a read) and unifiedorder (a write, each with a new
 * out_trade_no), with state in memory against state in a WAL SQLite file, measured side by
 * side in one run so the ratio is meaningful on a shared machine.
 *
 *   node --import tsx bench/sandbox.bench.ts [seconds per run, default 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { type Sandbox, startSandbox } from '../src/sandbox/index.js';
import { signedV2Body } from '../test/sandbox/support.js';

const seconds = Number(process.argv[2] ?? 5);

function order(n: number) {
  return {
    body: 'bench',
    out_trade_no: `BENCH${process.pid}${String(n).padStart(12, '0')}`,
    total_fee: 1,
    spbill_create_ip: '127.0.0.1',
    notify_url: 'http://127.0.0.1:9/n',
    trade_type: 'JSAPI',
    openid: 'oBench',
  };
}

async function run(
  sandbox: Sandbox,
  path: string,
  body: (n: number) => string,
  duration = seconds,
): Promise<number> {
  let n = 0;
  const result = await autocannon({
    url: `${sandbox.url}${path}`,
    method: 'POST',
    connections: 10,
    duration,
    requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, body: body(n++) }) }],
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${path}: ${result.errors} errors`);
  return result.requests.average;
}

const dir = mkdtempSync(join(tmpdir(), 'minipay-bench-'));
const memory = await startSandbox();
const file = await startSandbox({ stateFile: join(dir, 'state.sqlite') });
try {
  for (const s of [memory, file]) {
    await fetch(`${s.url}/pay/unifiedorder`, { method: 'POST', body: signedV2Body(s, order(0)) });
  }
  const query = (s: Sandbox) => () => signedV2Body(s, { out_trade_no: order(0).out_trade_no });
  const create = (s: Sandbox) => (n: number) => signedV2Body(s, order(n + 1));
  // Warm both up first (JIT, SQLite page cache) so neither pays for it in the measured runs.
  for (const s of [memory, file]) {
    await run(s, '/pay/orderquery', query(s), 1);
    await run(s, '/pay/unifiedorder', (n) => signedV2Body(s, order(1_000_000 + n)), 1);
  }
  const rows: [string, number, number][] = [];
  rows.push([
    'orderquery',
    await run(memory, '/pay/orderquery', query(memory)),
    await run(file, '/pay/orderquery', query(file)),
  ]);
  rows.push([
    'unifiedorder',
    await run(memory, '/pay/unifiedorder', create(memory)),
    await run(file, '/pay/unifiedorder', create(file)),
  ]);
  console.log(
    `sandbox requests/s, 10 connections, ${seconds} s each (Node ${process.versions.node})`,
  );
  console.log('| endpoint | memory | state file (WAL) | file / memory |');
  console.log('|---|---|---|---|');
  for (const [name, m, f] of rows)
    console.log(`| ${name} | ${Math.round(m)} | ${Math.round(f)} | ${(f / m).toFixed(2)} |`);
} finally {
  await memory.close();
  await file.close();
  rmSync(dir, { recursive: true, force: true });
}
