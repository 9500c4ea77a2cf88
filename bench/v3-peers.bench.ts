/**
 * minipay's APIv3 layer against the v3 peer SDKs on npm and against the bare crypto floor:
 *   a) behaviour: which payment notifications each library's notify path accepts
 *      (bench/support/v3-notify-cases.ts);
 *   b) speed: notify verify+decrypt (the hot path) and request signing, each library in a
 *      process of its own, interleaved rounds, medians (bench/support/micro.ts).
 * Targets (issue 16): ≥ 2× the fastest peer, within 1.5× of the floor. Prints the tables and
 * writes them to BENCHMARKS.md (between the v3-peers markers).
 *
 *   npm run bench:v3 [-- rounds sampleMs]        default 15 rounds of ~40 ms samples
 */
import { loadavg } from 'node:os';
import { writeBenchmarkSection } from './support/benchmarks-md.js';
import {
  formatRate,
  interleaved,
  type MicroResult,
  markdownTable,
  WARMUP_MS,
} from './support/micro.js';
import { ensurePeersInstalled } from './support/peer-sdks.js';
import { librarySamplers } from './support/sample-worker.js';
import { allV3Libraries, SPEED_OPERATIONS, type V3Library } from './support/v3-libraries.js';
import { v3NotifyCases, validV3Notify } from './support/v3-notify-cases.js';

const rounds = Number(process.argv[2] ?? 15);
const sampleMs = Number(process.argv[3] ?? 40);
const REGISTRY = new URL('./support/v3-libraries.js', import.meta.url).href;
const FLOOR = 'crypto floor';

ensurePeersInstalled();
const libraries = allV3Libraries();
const readers = libraries.filter((l) => l.name !== FLOOR);

/** a) Each case against each library: ✓ when it behaves correctly, ✗ when not. */
async function behaviour(): Promise<{ table: string; accepted: string[] }> {
  const rows: string[][] = [];
  const accepted: string[] = [];
  for (const c of v3NotifyCases()) {
    const row = [c.title];
    for (const lib of readers) {
      const ok = await lib.readNotify(c.message);
      const right = ok === (c.expect === 'accept');
      if (!right && ok) accepted.push(`${lib.name}: ${c.id}`);
      row.push(right ? '✓' : ok ? '✗ accepted' : '✗ refused');
    }
    rows.push(row);
  }
  return {
    table: markdownTable(['behaviour', ...readers.map((l) => `${l.name} ${l.version}`)], rows),
    accepted,
  };
}

/** Refuses to time a library that refuses the notification it is timed on. */
async function checkAnswers(all: readonly V3Library[]): Promise<void> {
  for (const lib of all) {
    if (!(await lib.readNotify(validV3Notify())))
      throw new Error(`${lib.name} refuses the valid notification`);
  }
}

async function speed(): Promise<{ operation: string; results: MicroResult[] }[]> {
  const workers = libraries.map((lib) => librarySamplers(lib.name, REGISTRY));
  try {
    const rows = [];
    for (const operation of Object.keys(SPEED_OPERATIONS)) {
      const samplers = workers.map((w) => w.samplers(operation));
      rows.push({ operation, results: await interleaved(samplers, { rounds, sampleMs }) });
    }
    return rows;
  } finally {
    for (const w of workers) w.stop();
  }
}

const command = `npm run bench:v3${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
console.log(
  `v3 peers: ${readers.map((l) => `${l.name} ${l.version}`).join(', ')} (Node ${process.versions.node})`,
);
const b = await behaviour();
console.log('\nBehaviour (✓ correct, ✗ wrong):');
console.log(b.table);
await checkAnswers(libraries);
const load = loadavg()
  .map((n) => n.toFixed(2))
  .join(', ');
const rows = await speed();
const load2 = loadavg()
  .map((n) => n.toFixed(2))
  .join(', ');

const table: string[][] = [];
const verdicts: string[] = [];
for (const { operation, results } of rows) {
  const ours = results.find((r) => r.name === 'minipay')!;
  const floor = results.find((r) => r.name === FLOOR)!;
  const fastestPeer = Math.max(
    ...results.filter((r) => r.name !== 'minipay' && r.name !== FLOOR).map((r) => r.opsPerSecond),
  );
  table.push([
    operation,
    ...results.map(
      (r) => `${formatRate(r.opsPerSecond)} (${(r.opsPerSecond / fastestPeer).toFixed(2)}×)`,
    ),
    `${(floor.opsPerSecond / ours.opsPerSecond).toFixed(2)}×`,
  ]);
  const vsPeer = ours.opsPerSecond / fastestPeer;
  const vsFloor = floor.opsPerSecond / ours.opsPerSecond;
  verdicts.push(
    `${operation}: ${vsPeer.toFixed(2)}× the fastest peer (target ≥ 2×: ${vsPeer >= 2 ? 'met' : 'NOT met'}), ${vsFloor.toFixed(2)}× the floor's cost (target ≤ 1.5×: ${vsFloor <= 1.5 ? 'met' : 'NOT met'})`,
  );
}
const speedTable = markdownTable(
  [
    'operation (ops/s, × fastest peer)',
    ...rows[0]!.results.map((r) => r.name),
    'minipay cost ÷ floor',
  ],
  table,
);
console.log(
  `\nSpeed (ops per CPU second, median of ${rounds} interleaved rounds of ~${sampleMs} ms):`,
);
console.log(speedTable);
for (const v of verdicts) console.log(v);
for (const { operation, results } of rows) {
  for (const r of results)
    console.log(`${operation} ${r.name} by round: ${r.rounds.map(formatRate).join(', ')}`);
}

writeBenchmarkSection(
  'v3-peers',
  `## APIv3: protocol layer vs peer SDKs and the crypto floor

\`${command}\` (Node ${process.versions.node}; peers pinned in \`bench/peers/package.json\`; load
average ${load} before the timed rounds and ${load2} after, on the 2 shared cores). WeChat has no
official Node.js SDK; the peers are the two community SDKs on npm. The floor is node:crypto
alone, each by the fastest Node call for it (bench/support/v3-libraries.ts): one RSA-2048
verify (\`createVerify\`) plus one AES-256-GCM decrypt (tag checked) per notification, one
RSA-2048 sign per request, nothing parsed or checked.

### Behaviour

Each row is a payment notification (bench/support/v3-notify-cases.ts) given to each library's
notify path as its docs use it, headers as Node's \`IncomingMessage\` has them; ✓ is the correct
outcome, ✗ accepted means the library hands the merchant a payment it should not. The peers
leave the event type, the merchant and the body size to the caller; they are listed because a
merchant who follows their docs does not check them either.

${b.table}

### Speed

Operations per CPU second, each library in a process of its own, warmed up for ${WARMUP_MS} ms
of CPU, then median of ${rounds} rounds interleaved across the processes of ~${sampleMs} ms each;
in brackets the ratio to the fastest peer; the last column is minipay's cost per operation over
the floor's. Notify verify+decrypt is minipay's whole \`readPaymentNotification\` (headers,
5-minute window, signature, JSON, event type, GCM with the tag, the typed trade, mchid and
appid).

${speedTable}

${verdicts.map((v) => `- ${v}`).join('\n')}`,
);
