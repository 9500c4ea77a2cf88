/**
 * minipay's protocol layer against the APIv2 peer SDKs on npm, in one process:
 *   a) behaviour: which notifies each library accepts (bench/support/notify-cases.ts);
 *   b) speed: notify decode+verify (the hot path), sign MD5, sign HMAC-SHA256, XML encode,
 *      interleaved rounds, medians, and each library's ratio to the fastest peer.
 * The peers are pinned in bench/peers/package.json and installed into bench/peers/node_modules
 * on the first run; they are not minipay dependencies. Prints both tables and writes them to
 * BENCHMARKS.md (between the peer-sdks markers).
 *
 *   npm run bench:peers [-- rounds sampleMs]        default 7 rounds of ~40 ms samples
 */
import { decodeXml } from '../src/wechatpay/index.js';
import { writeBenchmarkSection } from './support/benchmarks-md.js';
import {
  type Contender,
  formatRate,
  interleaved,
  type MicroResult,
  markdownTable,
} from './support/micro.js';
import {
  MD5_MERCHANT,
  type NotifyCase,
  notifyCases,
  notifyFields,
  validNotify,
} from './support/notify-cases.js';
import { allLibraries, ensurePeersInstalled, type Library } from './support/peer-sdks.js';

const rounds = Number(process.argv[2] ?? 7);
const sampleMs = Number(process.argv[3] ?? 40);
const TARGET = 5;

ensurePeersInstalled();
const libraries = allLibraries();
const ours = libraries[0]!;

/** a) Each case against each library: ✓ when it behaves correctly, ✗ (with why) when not. */
async function behaviour(): Promise<{ table: string; failures: string[] }> {
  const rows: string[][] = [];
  const failures: string[] = [];
  for (const c of notifyCases()) {
    const row = [c.title];
    for (const lib of libraries) row.push(await verdict(lib, c, failures));
    rows.push(row);
  }
  const header = ['behaviour', ...libraries.map((l) => `${l.name} ${l.version}`)];
  return { table: markdownTable(header, rows), failures };
}

async function verdict(lib: Library, c: NotifyCase, failures: string[]): Promise<string> {
  const accepted: string[] = [];
  for (const r of c.readings) if (await lib.readNotify(r.body, c.merchant)) accepted.push(r.label);
  if (c.expect === 'accept') {
    if (accepted.length === c.readings.length) return '✓';
    failures.push(`${lib.name}: ${c.id}`);
    return '✗ refused';
  }
  if (accepted.length === 0) return '✓';
  failures.push(`${lib.name}: ${c.id}`);
  return c.readings.length === 1 ? '✗ accepted' : `✗ accepted (${accepted.join(', ')})`;
}

interface SpeedRow {
  operation: string;
  results: MicroResult[];
}

/** Refuses to time a library whose answer is wrong: a fast wrong answer is not a result. */
async function checkAnswers(): Promise<void> {
  const md5 = notifyFields(MD5_MERCHANT);
  const want = {
    md5: ours.sign(md5, MD5_MERCHANT.key, 'MD5'),
    hmac: ours.sign(md5, MD5_MERCHANT.key, 'HMAC-SHA256'),
  };
  for (const lib of libraries) {
    if (!(await lib.readNotify(validNotify(MD5_MERCHANT), MD5_MERCHANT))) {
      throw new Error(`${lib.name} refuses the valid notify it is timed on`);
    }
    if (lib.sign(md5, MD5_MERCHANT.key, 'MD5') !== want.md5) {
      throw new Error(`${lib.name} signs MD5 differently`);
    }
    if (lib.sign(md5, MD5_MERCHANT.key, 'HMAC-SHA256') !== want.hmac) {
      throw new Error(`${lib.name} signs HMAC-SHA256 differently`);
    }
    const decoded = { ...decodeXml(await lib.encode(md5)) };
    if (JSON.stringify(decoded) !== JSON.stringify(md5)) {
      throw new Error(`${lib.name} encodes XML that does not decode to the same fields`);
    }
  }
}

async function speed(): Promise<SpeedRow[]> {
  const body = validNotify(MD5_MERCHANT);
  const fields = notifyFields(MD5_MERCHANT);
  const key = MD5_MERCHANT.key;
  const operations: [string, (lib: Library) => Contender['run']][] = [
    ['notify decode+verify (MD5)', (lib) => () => lib.readNotify(body, MD5_MERCHANT)],
    ['sign MD5', (lib) => () => lib.sign(fields, key, 'MD5')],
    ['sign HMAC-SHA256', (lib) => () => lib.sign(fields, key, 'HMAC-SHA256')],
    ['XML encode', (lib) => () => lib.encode(fields)],
  ];
  const rows: SpeedRow[] = [];
  for (const [operation, make] of operations) {
    const contenders = libraries.map((lib) => ({ name: lib.name, run: make(lib) }));
    rows.push({ operation, results: await interleaved(contenders, { rounds, sampleMs }) });
  }
  return rows;
}

function speedTable(rows: readonly SpeedRow[]): { table: string; hotRatio: number } {
  const out: string[][] = [];
  let hotRatio = 0;
  for (const { operation, results } of rows) {
    const fastestPeer = Math.max(
      ...results.filter((r) => r.name !== ours.name).map((r) => r.opsPerSecond),
    );
    const cells = results.map((r) => {
      const ratio = r.opsPerSecond / fastestPeer;
      return `${formatRate(r.opsPerSecond)} (${ratio.toFixed(2)}×)`;
    });
    if (rows[0]!.operation === operation) hotRatio = results[0]!.opsPerSecond / fastestPeer;
    out.push([operation, ...cells]);
  }
  const header = ['operation (ops/s, × fastest peer)', ...libraries.map((l) => l.name)];
  return { table: markdownTable(header, out), hotRatio };
}

const command = `npm run bench:peers${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
console.log(
  `peer SDKs: ${libraries.map((l) => `${l.name} ${l.version}`).join(', ')} (Node ${process.versions.node})`,
);
const b = await behaviour();
console.log('\nBehaviour (✓ correct, ✗ wrong):');
console.log(b.table);
await checkAnswers();
const rows = await speed();
const s = speedTable(rows);
console.log(
  `\nSpeed (ops per CPU second, median of ${rounds} interleaved rounds of ~${sampleMs} ms):`,
);
console.log(s.table);
for (const { operation, results } of rows) {
  for (const r of results) {
    console.log(`${operation} ${r.name} by round: ${r.rounds.map(formatRate).join(', ')}`);
  }
}
const met = s.hotRatio >= TARGET;
console.log(
  `\nnotify decode+verify: minipay is ${s.hotRatio.toFixed(1)}× the fastest peer (target ≥ ${TARGET}×: ${met ? 'met' : 'NOT met'})`,
);

writeBenchmarkSection(
  'peer-sdks',
  `## Protocol layer vs peer SDKs

\`${command}\` (Node ${process.versions.node}; peers pinned in \`bench/peers/package.json\` and
installed into \`bench/peers/node_modules\` on the first run, never minipay dependencies).

### Behaviour

Each row is a payment notify (bench/support/notify-cases.ts) given to each library's own
notify path as its docs use it; ✓ is the correct outcome. Rows with several bodies (the
downgrade with and without \`sign_type\`; the DOCTYPE with and without an entity in use; the
duplicate signed as the first, the last or the joined value) list the bodies a library
accepted.

${b.table}

### Speed

Operations per CPU second of the bench process (not wall time: the 2 cores are shared), median
of ${rounds} interleaved rounds (A, B, C, D, A, …) of ~${sampleMs} ms each, in one process, with a GC
between samples; in brackets the ratio to the fastest peer. Notify decode+verify is the
whole path a merchant runs on each notify (parse, \`return_code\`, signature, appid / mch_id;
minipay also types every field). Issue 2's target for it is ≥ ${TARGET}× the fastest peer:
**${s.hotRatio.toFixed(1)}×, ${met ? 'met' : 'not met'}**.

${s.table}`,
);
