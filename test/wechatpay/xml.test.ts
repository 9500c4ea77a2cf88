import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeXml, encodeXml, XmlError, type XmlErrorCode } from '../../src/wechatpay/xml.js';

function refuses(input: string | Buffer, code: XmlErrorCode, options = {}) {
  assert.throws(
    () => decodeXml(input, options),
    (err: unknown) => err instanceof XmlError && err.code === code,
    `expected ${code} for ${String(input).slice(0, 60)}`,
  );
}

describe('decodeXml: WeChat messages', () => {
  it('reads text and CDATA values exactly', () => {
    const fields = decodeXml(
      '<xml><appid><![CDATA[wx2421b1c4370ec43b]]></appid>\n  <total_fee>1</total_fee><attach><![CDATA[ 支付 测试 ]]></attach><nonce_str>007</nonce_str><n>1e5</n></xml>',
    );
    assert.deepEqual(
      { ...fields },
      {
        appid: 'wx2421b1c4370ec43b',
        total_fee: '1',
        attach: ' 支付 测试 ',
        nonce_str: '007',
        n: '1e5',
      },
    );
  });
  it('accepts the XML declaration and a BOM', () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('<?xml version="1.0" encoding="UTF-8"?><xml><a>1</a></xml>'),
    ]);
    assert.equal(decodeXml(body).a, '1');
  });
  it('decodes predefined entities and numeric references', () => {
    assert.equal(decodeXml('<xml><a>&lt;&amp;&gt;&quot;&apos;&#65;&#x42;</a></xml>').a, '<&>"\'AB');
  });
  it('keeps DOCTYPE text inside CDATA as data', () => {
    assert.equal(
      decodeXml('<xml><attach><![CDATA[<!DOCTYPE x>]]></attach></xml>').attach,
      '<!DOCTYPE x>',
    );
  });
  it('round-trips through encodeXml', () => {
    const fields = { a: 'plain', b: '<b>&</b>', c: 'x]]>y', d: '中文', e: 12, f: '' };
    const decoded = decodeXml(encodeXml(fields));
    assert.deepEqual(
      { ...decoded },
      { a: 'plain', b: '<b>&</b>', c: 'x]]>y', d: '中文', e: '12', f: '' },
    );
  });
  it('returns a null-prototype object', () => {
    const fields = decodeXml('<xml><__proto__>1</__proto__><constructor>2</constructor></xml>');
    assert.equal(Object.getPrototypeOf(fields), null);
    assert.equal(Object.getOwnPropertyDescriptor(fields, '__proto__')?.value, '1');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('decodeXml: hostile input', () => {
  it('refuses DOCTYPE and ENTITY in any case', () => {
    refuses(
      '<!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><a>&x;</a></xml>',
      'FORBIDDEN_MARKUP',
    );
    refuses(
      '<?xml version="1.0"?><!doctype xml SYSTEM "http://127.0.0.1/x.dtd"><xml></xml>',
      'FORBIDDEN_MARKUP',
    );
    refuses('<xml><!ENTITY a "b"><a>1</a></xml>', 'FORBIDDEN_MARKUP');
    refuses('<xml><a>1<!-- c --></a></xml>', 'FORBIDDEN_MARKUP');
    refuses('<xml><?php echo 1 ?><a>1</a></xml>', 'FORBIDDEN_MARKUP');
  });
  it('refuses undefined entities and bare ampersands', () => {
    refuses('<xml><a>&xxe;</a></xml>', 'MALFORMED');
    refuses('<xml><a>a & b</a></xml>', 'MALFORMED');
    refuses('<xml><a>&#0;</a></xml>', 'MALFORMED');
  });
  it('refuses duplicates, nesting, attributes, truncation, two roots', () => {
    refuses('<xml><a>1</a><a>2</a></xml>', 'DUPLICATE_FIELD');
    refuses('<xml><a><b>1</b></a></xml>', 'MALFORMED');
    refuses('<xml><a x="1">1</a></xml>', 'MALFORMED');
    refuses('<xml><a>1</a>', 'MALFORMED');
    refuses('<xml><a>1</b></xml>', 'MALFORMED');
    refuses('<xml><a>1</a></xml><xml></xml>', 'MALFORMED');
    refuses('<xml><a><![CDATA[1</a></xml>', 'MALFORMED');
    refuses('{"a":1}', 'MALFORMED');
    refuses('<root><a>1</a></root>', 'WRONG_ROOT');
    refuses('', 'EMPTY');
  });
  it('refuses oversized bodies, non-UTF-8 and other encodings', () => {
    refuses(`<xml><a>${'x'.repeat(70_000)}</a></xml>`, 'TOO_LARGE');
    refuses(
      Buffer.from([0x3c, 0x78, 0x6d, 0x6c, 0x3e, 0xc4, 0xe3, 0x3c, 0x2f, 0x78, 0x6d, 0x6c, 0x3e]),
      'NOT_UTF8',
    );
    refuses('<?xml version="1.0" encoding="GBK"?><xml></xml>', 'NOT_UTF8');
  });
});

describe('decodeXml: the common-shape fast path', () => {
  // decodeXml reads messages of the common shape with one regex and leaves everything else to
  // the full reader. A leading space always takes the full reader, so `' ' + m` is the full
  // reader's verdict on `m`: on thousands of mutated messages the two must agree exactly.
  const seeds = [
    '<xml><appid><![CDATA[wx2421b1c4370ec43b]]></appid><attach><![CDATA[支付 测试 ]]></attach><total_fee>1</total_fee><sign><![CDATA[B552ED6B279343CB493C5DD0D78AB241]]></sign></xml>',
    '<xml>\n  <a>1</a>\n  <b><![CDATA[]]></b>\n  <c></c>\n</xml>\n',
    '<xml><a>x &amp; y</a><b><![CDATA[p]]><![CDATA[q]]></b><c/></xml>',
    '<root><out_refund_no>R1</out_refund_no><refund_fee>100</refund_fee></root>',
  ];
  const tokens = [
    '<',
    '>',
    '/',
    ']',
    ']]>',
    '&',
    '&amp;',
    '&#x41;',
    '<![CDATA[',
    ' ',
    '\n',
    '\t',
    '\u0001',
    '中',
    '😀',
    '\uFFFE',
    '\uE000',
    '<a>',
    '</a>',
    '<a/>',
    '<b>2</b>',
    '__proto__',
    'xml',
    '<!DOCTYPE x>',
    '<?xml version="1.0"?>',
    'n'.repeat(70),
    '<a x="1">',
    '</xml>',
    'root',
  ];
  let state = 7;
  const random = (n: number) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
  function mutate(s: string): string {
    let out = s;
    for (let k = random(3); k > 0; k--) {
      const at = random(out.length + 1);
      const what = random(3);
      if (what === 0) out = out.slice(0, at) + tokens[random(tokens.length)] + out.slice(at);
      else if (what === 1) out = out.slice(0, at) + out.slice(at + 1 + random(6));
      else {
        const from = random(out.length);
        out = out.slice(0, at) + out.slice(from, from + random(20)) + out.slice(at);
      }
    }
    return out;
  }
  function outcome(input: string, options: object): unknown {
    try {
      const f = decodeXml(input, options);
      return { proto: Object.getPrototypeOf(f), entries: Object.entries(f) };
    } catch (err) {
      if (err instanceof XmlError) return { code: err.code };
      throw err;
    }
  }

  it('agrees with the full reader on mutated messages, under every option', () => {
    const optionSets = [{}, { maxFields: 3 }, { maxValueLength: 4 }, { root: 'root' }];
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const input = mutate(seeds[i % seeds.length]!);
      const options = optionSets[random(optionSets.length)]!;
      const fast = outcome(input, options);
      assert.deepEqual(fast, outcome(` ${input}`, options), JSON.stringify({ input, options }));
      if ('code' in (fast as object)) refused++;
      else accepted++;
    }
    assert.ok(accepted > 400 && refused > 400, `${accepted} accepted, ${refused} refused`);
  });
});
