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
