/**
 * Micro-benchmarks of the protocol layer (src/wechatpay), in one process: sign, verify,
 * decode (against fast-xml-parser, the general parser xml.ts chose not to use), encode, the
 * whole notify read, and `wx.requestPayment` parameters. Prints a table and writes it to
 * BENCHMARKS.md. The comparison with other SDKs is bench/peer-sdks.bench.ts.
 *
 *   npm run bench [-- rounds sampleMs]        default 7 rounds of ~40 ms samples
 */
import { XMLParser } from 'fast-xml-parser';
import {
  buildRequestPayment,
  decodeXml,
  encodeXml,
  readPaymentNotify,
  signV2,
  verifyV2,
} from '../src/wechatpay/index.js';
import { writeBenchmarkSection } from './support/benchmarks-md.js';
import { type Contender, formatRate, interleaved, markdownTable } from './support/micro.js';
import { HMAC_MERCHANT, MD5_MERCHANT, notifyFields, validNotify } from './support/notify-cases.js';

const rounds = Number(process.argv[2] ?? 7);
const sampleMs = Number(process.argv[3] ?? 40);

const m = MD5_MERCHANT;
const fields = notifyFields(m);
const md5Body = validNotify(m);
const hmacBody = validNotify(HMAC_MERCHANT);
const md5Signed = { ...fields, sign: signV2(fields, m.key, 'MD5') };
const fxp = new XMLParser({ parseTagValue: false, processEntities: false });

const contenders: Contender[] = [
  { name: 'signV2 MD5', run: () => signV2(fields, m.key, 'MD5') },
  { name: 'signV2 HMAC-SHA256', run: () => signV2(fields, m.key, 'HMAC-SHA256') },
  { name: 'verifyV2 MD5', run: () => verifyV2(md5Signed, m.key, 'MD5') },
  { name: 'decodeXml (notify, 17 fields)', run: () => decodeXml(md5Body) },
  { name: 'fast-xml-parser parse (same body)', run: () => fxp.parse(md5Body) },
  { name: 'encodeXml (16 fields)', run: () => encodeXml(fields) },
  { name: 'readPaymentNotify MD5', run: () => readPaymentNotify(md5Body, m) },
  { name: 'readPaymentNotify HMAC-SHA256', run: () => readPaymentNotify(hmacBody, HMAC_MERCHANT) },
  {
    name: 'buildRequestPayment',
    run: () =>
      buildRequestPayment({
        appId: m.appId,
        prepayId: 'wx201410272009395522657a690389285100',
        key: m.key,
        signType: 'MD5',
      }),
  },
];

// A fast wrong answer is not a result.
if (!verifyV2(decodeXml(md5Body), m.key, 'MD5')) throw new Error('the benchmark notify is invalid');
if (decodeXml(md5Body).total_fee !== fxp.parse(md5Body).xml.total_fee) {
  throw new Error('fast-xml-parser reads the notify differently');
}

const results = await interleaved(contenders, { rounds, sampleMs });
const table = markdownTable(
  ['operation', 'ops per CPU second', 'µs per op'],
  results.map((r) => [r.name, formatRate(r.opsPerSecond), (1e6 / r.opsPerSecond).toFixed(2)]),
);
const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
console.log(`protocol layer (Node ${process.versions.node}), median of ${rounds} rounds:`);
console.log(table);
writeBenchmarkSection(
  'protocol',
  `## Protocol layer micro-benchmarks

\`${command}\` (Node ${process.versions.node}): operations per CPU second of the bench process,
median of ${rounds} interleaved rounds of ~${sampleMs} ms, a GC between samples. fast-xml-parser is
the general parser src/wechatpay/xml.ts does not use (it cannot refuse DOCTYPE and turns
duplicated fields into arrays); its row shows what the strict flat reader costs against it.

${table}`,
);
