/**
 * The hostile corpus (test/fixtures/hostile/) against the protocol layer: every XML case goes
 * through decodeXml and signature verification and must end in the expected refusal class,
 * as a typed XmlError or a plain `false`, never another exception.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DEMO_CREDENTIALS } from '../../src/sandbox/credentials.js';
import { decodeXml, verifyV2, XmlError, type XmlFields } from '../../src/wechatpay/index.js';
import {
  buildHostileCases,
  type HostileCase,
  type HostileOutcome,
  hostileManifest,
} from '../support/hostile-cases.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'hostile');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  cases: Omit<HostileCase, 'body'>[];
};
const cases: HostileCase[] = manifest.cases.map((c) => ({
  ...c,
  body: readFileSync(join(dir, c.file)),
}));
const key = DEMO_CREDENTIALS.mchKey;

/** Outcomes where the message is genuine: it verifies, and the server refuses on content. */
const SIGNED_OUTCOMES: readonly HostileOutcome[] = [
  'merchant-refused',
  'amount-refused',
  'unknown-order',
  'not-a-payment',
  'replay',
];

function decodeOrCode(body: Buffer, root = 'xml'): XmlFields | string {
  try {
    return decodeXml(body, { root });
  } catch (err) {
    assert.ok(err instanceof XmlError, `not an XmlError: ${String(err)}`);
    assert.ok(err.message.length > 0);
    return err.code;
  }
}

/** APIv2 refund `req_info`: AES-256-ECB with the lowercase hex MD5 of the key; throws if bad. */
function decryptReqInfo(reqInfo: string): string {
  const aesKey = createHash('md5').update(key, 'utf8').digest('hex');
  const decipher = createDecipheriv('aes-256-ecb', Buffer.from(aesKey, 'utf8'), null);
  const bytes = Buffer.from(reqInfo, 'base64');
  return Buffer.concat([decipher.update(bytes), decipher.final()]).toString('utf8');
}

describe('hostile corpus: the fixtures', () => {
  it('has at least 50 cases, one file each, every file described', () => {
    assert.ok(cases.length >= 50, `${cases.length} cases`);
    const files = readdirSync(dir).filter((f) => f !== 'manifest.json');
    assert.deepEqual(files.sort(), cases.map((c) => c.file).sort());
    for (const c of cases) {
      assert.ok(c.attacks.length > 10, `${c.name}: say what it attacks`);
      assert.ok(['payment-notify', 'refund-notify', 'json-api'].includes(c.target), c.name);
    }
  });

  it('are exactly what scripts/gen-hostile-fixtures.ts generates', () => {
    const fresh = buildHostileCases();
    assert.equal(readFileSync(join(dir, 'manifest.json'), 'utf8'), hostileManifest(fresh));
    for (const c of fresh) {
      assert.ok(readFileSync(join(dir, c.file)).equals(c.body), `${c.file} is stale`);
    }
  });

  it('covers every attack family the issue names', () => {
    const names = cases.map((c) => c.name).join(' ');
    for (const family of [
      'xxe-lowercase',
      'xxe-mixedcase',
      'external-dtd',
      'parameter-entity',
      'billion-laughs',
      'quadratic',
      'utf16',
      'utf7',
      'bom',
      'processing-instruction',
      'comment',
      'oversized',
      'truncated',
      'duplicate',
      'nested',
      'json-as',
      'xml-to-orders-api',
      'sign-other-key',
      'replay',
      'wrong-appid',
      'wrong-mch-id',
      'amount',
      'currency',
      'unknown-order',
      'sql',
      'huge-attach',
      'quantity-negative',
      'quantity-zero',
      'quantity-float',
      'quantity-overflow',
      'other-user',
    ]) {
      assert.ok(names.includes(family), `no case for ${family}`);
    }
  });
});

describe('hostile corpus: payment notifies through decodeXml and verifyV2', () => {
  for (const c of cases.filter((x) => x.target === 'payment-notify')) {
    it(`${c.name}: ${c.expect}${c.xmlError ? ` (${c.xmlError})` : ''}`, () => {
      const result = decodeOrCode(c.body);
      if (c.expect === 'xml-refused') {
        assert.equal(result, c.xmlError);
        return;
      }
      assert.equal(
        typeof result,
        'object',
        `refused as ${typeof result === 'string' ? result : ''}`,
      );
      const fields = result as XmlFields;
      const verified = verifyV2(fields, key, 'MD5');
      if (c.expect === 'signature-refused') assert.equal(verified, false);
      else {
        assert.ok(SIGNED_OUTCOMES.includes(c.expect), c.expect);
        assert.equal(verified, true, 'a signed-but-wrong case must carry a valid signature');
      }
    });
  }
});

describe('hostile corpus: refund notifies through decodeXml and req_info decryption', () => {
  for (const c of cases.filter((x) => x.target === 'refund-notify')) {
    it(`${c.name}: ${c.expect}`, () => {
      const outer = decodeOrCode(c.body);
      if (c.expect === 'xml-refused') {
        assert.equal(outer, c.xmlError);
        return;
      }
      assert.equal(
        typeof outer,
        'object',
        `outer refused as ${typeof outer === 'string' ? outer : ''}`,
      );
      const reqInfo = (outer as XmlFields).req_info;
      let plain: string | undefined;
      try {
        plain = reqInfo === undefined ? undefined : decryptReqInfo(reqInfo);
      } catch {
        plain = undefined;
      }
      if (c.innerXmlError) {
        assert.ok(plain !== undefined, 'req_info should decrypt');
        assert.equal(decodeOrCode(Buffer.from(plain), 'root'), c.innerXmlError);
      } else if (c.expect === 'refund-refused') {
        assert.equal(plain, undefined, 'req_info must not decrypt with the merchant key');
      } else {
        assert.ok(plain !== undefined, 'a signed-but-wrong refund must decrypt');
        assert.equal(typeof decodeOrCode(Buffer.from(plain), 'root'), 'object');
      }
    });
  }
});

describe('hostile corpus: JSON API cases are well-formed requests', () => {
  for (const c of cases.filter((x) => x.target === 'json-api')) {
    it(`${c.name}: ${c.status} ${c.code ?? ''}`, () => {
      // The admin cases spell /admin/v1 with %-encoded letters: that is their attack.
      const path = decodeURIComponent(c.path ?? '');
      assert.ok(/^\/(api|admin)\/v1\//.test(path), 'a path under /api/v1 or /admin/v1');
      assert.ok(c.status !== undefined && c.status >= 400 && c.status < 500, 'a 4xx status');
      assert.ok(c.method === 'GET' || c.method === 'POST' || c.method === 'PATCH');
    });
  }
});
