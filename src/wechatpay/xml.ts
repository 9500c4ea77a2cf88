/**
 * The XML of WeChat Pay APIv2: one root (`<xml>`, or `<root>` inside a refund notify's
 * `req_info`) holding flat `<field>value</field>` children, values as text or CDATA.
 *
 * Hand-written on purpose. In APIv2 the signature sits inside the XML, so this reader runs on
 * unauthenticated bytes (the 2018 WeChat Pay XXE: docs/wechat-rules.md, "The XML runs before
 * the signature").
 * General parsers parse DOCTYPE (fast-xml-parser expands internal entities, accepts an
 * external DTD, has no option to refuse DOCTYPE, coerces "1e5" to 100000, turns duplicated
 * fields into arrays and accepts unclosed tags). This reader knows only the flat shape, so
 * anything else is refused by construction: `<!` other than `<![CDATA[`, `<?` other than the
 * leading declaration, attributes, nesting, duplicated fields, undefined entities, bytes that
 * are not UTF-8. Values are returned exactly as sent (no trim, no number coercion, no line-end
 * normalisation) so a correctly signed message always verifies. bench/protocol.bench.ts keeps
 * the speed comparison with fast-xml-parser current (BENCHMARKS.md).
 */

/** What a decoder refused, as a stable code. */
export type XmlErrorCode =
  | 'EMPTY'
  | 'TOO_LARGE'
  | 'NOT_UTF8'
  | 'FORBIDDEN_MARKUP'
  | 'MALFORMED'
  | 'WRONG_ROOT'
  | 'DUPLICATE_FIELD'
  | 'TOO_MANY_FIELDS'
  | 'VALUE_TOO_LONG';

export class XmlError extends Error {
  override readonly name = 'XmlError';
  constructor(
    readonly code: XmlErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A decoded flat message. Null-prototype, so field names such as `__proto__` are inert. */
export type XmlFields = Record<string, string>;

export interface DecodeXmlOptions {
  /** Expected root element. Default `xml`. */
  root?: string;
  /** Largest accepted body in bytes. Default 64 KiB (a real notify is 1–2 KB). */
  maxBytes?: number;
  /** Most fields accepted. Default 256. */
  maxFields?: number;
  /** Longest accepted value, in UTF-16 code units. Default 16,384 (`detail` may hold 6,000). */
  maxValueLength?: number;
}

export const XML_MAX_BYTES = 64 * 1024;
const DEFAULT_MAX_FIELDS = 256;
const DEFAULT_MAX_VALUE_LENGTH = 16 * 1024;
const MAX_NAME_LENGTH = 64;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes a WeChat Pay v2 message; throws `XmlError` for anything that is not one. */
export function decodeXml(input: Uint8Array | string, options: DecodeXmlOptions = {}): XmlFields {
  const maxBytes = options.maxBytes ?? XML_MAX_BYTES;
  let text: string;
  if (typeof input === 'string') {
    if (input.length > maxBytes || Buffer.byteLength(input, 'utf8') > maxBytes) {
      throw new XmlError('TOO_LARGE', `XML body is larger than ${maxBytes} bytes`);
    }
    text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  } else {
    if (input.byteLength > maxBytes) {
      throw new XmlError('TOO_LARGE', `XML body is larger than ${maxBytes} bytes`);
    }
    try {
      text = utf8.decode(input);
    } catch {
      throw new XmlError('NOT_UTF8', 'XML body is not valid UTF-8');
    }
  }
  return (
    readCommonShape(
      text,
      options.root ?? 'xml',
      options.maxFields ?? DEFAULT_MAX_FIELDS,
      options.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH,
    ) ?? new FlatXmlReader(text, options).read()
  );
}

/**
 * One field in the shape WeChat sends: whitespace, `<name>`, one CDATA section or plain text,
 * `</name>`. Only characters that need no further check are let through: no `]` in CDATA (so
 * its end is the first `]]>`), no `<`, `&` or `]` in text (no entities, no `]]>`), no control
 * characters, nothing from U+D800 up (surrogates, U+FFFE/U+FFFF). Chinese text is below U+D800.
 */
const COMMON_FIELD =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: they are what the classes exclude
  /[\t\n\r ]*<([A-Za-z_][A-Za-z0-9_]{0,63})>(?:<!\[CDATA\[([^\]\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uFFFF]*)\]\]>|([^<&\]\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uFFFF]*))<\/\1>/y;

/**
 * The hot path: a message of the common shape (`<root>` first, fields as `COMMON_FIELD`,
 * `</root>`), read by one native regex instead of character by character. Anything else, even
 * if valid, gives `undefined` and goes to `FlatXmlReader`, which decides and explains. Every
 * input this accepts, the reader accepts with the same fields (test/wechatpay/xml.test.ts
 * checks the two agree on mutated messages), so it refuses nothing new and accepts nothing new.
 */
function readCommonShape(
  s: string,
  root: string,
  maxFields: number,
  maxValueLength: number,
): XmlFields | undefined {
  if (s.charCodeAt(0) !== 0x3c || !s.startsWith(root, 1) || s.charCodeAt(root.length + 1) !== 0x3e)
    return undefined;
  // Built as a plain object (V8 keeps it in fast mode, which later reads and Object.keys
  // profit from) and given a null prototype at the end; `__proto__` goes to the slow reader.
  const fields: XmlFields = {};
  let count = 0;
  let p = root.length + 2;
  COMMON_FIELD.lastIndex = p;
  for (let m = COMMON_FIELD.exec(s); m !== null; m = COMMON_FIELD.exec(s)) {
    const name = m[1]!;
    const value = m[2] ?? m[3]!;
    if (name === '__proto__' || Object.hasOwn(fields, name)) return undefined;
    if (++count > maxFields || value.length > maxValueLength) return undefined;
    fields[name] = value;
    p = COMMON_FIELD.lastIndex;
  }
  p = skipXmlSpace(s, p);
  if (!s.startsWith('</', p) || !s.startsWith(root, p + 2)) return undefined;
  p += 2 + root.length;
  if (s.charCodeAt(p) !== 0x3e) return undefined;
  return skipXmlSpace(s, p + 1) === s.length ? Object.setPrototypeOf(fields, null) : undefined;
}

function skipXmlSpace(s: string, from: number): number {
  let p = from;
  for (;;) {
    const c = s.charCodeAt(p);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
    else return p;
  }
}

class FlatXmlReader {
  private pos = 0;
  private lastSelfClosed = '';
  private readonly root: string;
  private readonly maxFields: number;
  private readonly maxValueLength: number;

  constructor(
    private readonly s: string,
    options: DecodeXmlOptions,
  ) {
    this.root = options.root ?? 'xml';
    this.maxFields = options.maxFields ?? DEFAULT_MAX_FIELDS;
    this.maxValueLength = options.maxValueLength ?? DEFAULT_MAX_VALUE_LENGTH;
  }

  read(): XmlFields {
    const s = this.s;
    this.skipSpace();
    if (this.pos >= s.length) throw new XmlError('EMPTY', 'XML body is empty');
    if (s.startsWith('<?', this.pos)) this.readDeclaration();
    this.skipSpace();
    const rootName = this.readOpenTag();
    if (rootName === null) {
      if (this.lastSelfClosed === this.root)
        throw new XmlError('EMPTY', 'XML message has no fields');
      throw new XmlError('WRONG_ROOT', `root element must be <${this.root}>`);
    }
    if (rootName !== this.root)
      throw new XmlError('WRONG_ROOT', `root element must be <${this.root}>`);
    const fields: XmlFields = Object.create(null);
    let count = 0;
    for (;;) {
      this.skipSpace();
      if (this.pos >= s.length) throw new XmlError('MALFORMED', `<${this.root}> is not closed`);
      if (s.charCodeAt(this.pos) !== 0x3c /* < */) {
        throw new XmlError('MALFORMED', 'text outside a field');
      }
      if (s.charCodeAt(this.pos + 1) === 0x2f /* / */) {
        this.readCloseTag(this.root);
        break;
      }
      const name = this.readOpenTag();
      const value = name === null ? '' : this.readValue();
      const field = name ?? this.lastSelfClosed;
      if (name !== null) this.readCloseTag(name);
      if (field in fields) throw new XmlError('DUPLICATE_FIELD', `field <${field}> appears twice`);
      if (++count > this.maxFields) {
        throw new XmlError('TOO_MANY_FIELDS', `more than ${this.maxFields} fields`);
      }
      fields[field] = value;
    }
    this.skipSpace();
    if (this.pos !== s.length) throw new XmlError('MALFORMED', 'content after the root element');
    return fields;
  }

  private skipSpace(): void {
    const s = this.s;
    let p = this.pos;
    for (;;) {
      const c = s.charCodeAt(p);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
      else break;
    }
    this.pos = p;
  }

  /** `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>`, only at the very start. */
  private readDeclaration(): void {
    const end = this.s.indexOf('?>', this.pos);
    if (end < 0) throw new XmlError('MALFORMED', 'unterminated XML declaration');
    const decl = this.s.slice(this.pos, end + 2);
    const m =
      /^<\?xml\s+version\s*=\s*(["'])1\.[0-9]\1(?:\s+encoding\s*=\s*(["'])([A-Za-z0-9._-]+)\2)?(?:\s+standalone\s*=\s*(["'])(?:yes|no)\4)?\s*\?>$/.exec(
        decl,
      );
    if (!m) throw new XmlError('FORBIDDEN_MARKUP', 'processing instructions are not accepted');
    const encoding = m[3];
    if (encoding !== undefined && !/^utf-?8$/i.test(encoding)) {
      throw new XmlError('NOT_UTF8', `XML declares encoding ${encoding}; only UTF-8 is accepted`);
    }
    this.pos = end + 2;
  }

  /**
   * Reads `<name>` and returns the name, or `null` for `<name/>` (an empty field, its name in
   * `lastSelfClosed`). Refuses `<!…>`, `<?…>`, attributes and bad names.
   */
  private readOpenTag(): string | null {
    const s = this.s;
    if (s.charCodeAt(this.pos) !== 0x3c) throw new XmlError('MALFORMED', 'expected an element');
    const next = s.charCodeAt(this.pos + 1);
    if (next === 0x21 /* ! */ || next === 0x3f /* ? */) throw forbidden(s, this.pos);
    const start = this.pos + 1;
    let p = start;
    while (p < s.length && isNameChar(s.charCodeAt(p))) p++;
    const name = s.slice(start, p);
    if (name.length === 0 || name.length > MAX_NAME_LENGTH || !isNameStart(name.charCodeAt(0))) {
      throw new XmlError('MALFORMED', 'invalid element name');
    }
    if (s.charCodeAt(p) === 0x3e /* > */) {
      this.pos = p + 1;
      return name;
    }
    if (s.charCodeAt(p) === 0x2f && s.charCodeAt(p + 1) === 0x3e /* /> */) {
      this.pos = p + 2;
      this.lastSelfClosed = name;
      return null;
    }
    throw new XmlError('MALFORMED', `element <${name}> has attributes or is not closed`);
  }

  private readCloseTag(name: string): void {
    const s = this.s;
    if (!s.startsWith('</', this.pos) || !s.startsWith(name, this.pos + 2)) {
      throw new XmlError('MALFORMED', `<${name}> is not closed by </${name}>`);
    }
    this.pos += 2 + name.length;
    this.skipSpace();
    if (s.charCodeAt(this.pos) !== 0x3e) {
      throw new XmlError('MALFORMED', `<${name}> is not closed by </${name}>`);
    }
    this.pos++;
  }

  /** Text and CDATA up to the next `</`; nested elements and markup are refused. */
  private readValue(): string {
    const s = this.s;
    let value = '';
    for (;;) {
      const lt = s.indexOf('<', this.pos);
      if (lt < 0) throw new XmlError('MALFORMED', 'unterminated field');
      if (lt > this.pos) value += decodeText(s, this.pos, lt);
      this.pos = lt;
      if (s.startsWith('<![CDATA[', lt)) {
        const end = s.indexOf(']]>', lt + 9);
        if (end < 0) throw new XmlError('MALFORMED', 'unterminated CDATA section');
        value += checkChars(s.slice(lt + 9, end));
        this.pos = end + 3;
      } else if (s.charCodeAt(lt + 1) === 0x2f /* / */) {
        break;
      } else if (s.charCodeAt(lt + 1) === 0x21 || s.charCodeAt(lt + 1) === 0x3f) {
        throw forbidden(s, lt);
      } else {
        throw new XmlError('MALFORMED', 'nested elements are not accepted');
      }
      if (value.length > this.maxValueLength) break;
    }
    if (value.length > this.maxValueLength) {
      throw new XmlError(
        'VALUE_TOO_LONG',
        `a value is longer than ${this.maxValueLength} characters`,
      );
    }
    return value;
  }
}

function forbidden(s: string, at: number): XmlError {
  const head = s.slice(at, at + 12).toUpperCase();
  if (head.startsWith('<!DOCTYPE') || head.startsWith('<!ENTITY')) {
    return new XmlError('FORBIDDEN_MARKUP', 'DOCTYPE and ENTITY declarations are not accepted');
  }
  if (head.startsWith('<!--')) return new XmlError('FORBIDDEN_MARKUP', 'comments are not accepted');
  if (head.startsWith('<?')) {
    return new XmlError('FORBIDDEN_MARKUP', 'processing instructions are not accepted');
  }
  return new XmlError('FORBIDDEN_MARKUP', 'markup declarations are not accepted');
}

const ENTITIES: Readonly<Record<string, string>> = {
  lt: '<',
  gt: '>',
  amp: '&',
  quot: '"',
  apos: "'",
};

/** Character data between markup: the 5 predefined entities and numeric references. */
function decodeText(s: string, from: number, to: number): string {
  const raw = s.slice(from, to);
  if (raw.includes(']]>')) throw new XmlError('MALFORMED', '"]]>" is not allowed in text');
  checkChars(raw);
  if (!raw.includes('&')) return raw;
  return raw.replace(/&([^;&\s]{0,10});|&/g, (whole, ref: string | undefined) => {
    if (ref === undefined) throw new XmlError('MALFORMED', 'bare "&" in text');
    const named = ENTITIES[ref];
    if (named !== undefined) return named;
    const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (!m) throw new XmlError('MALFORMED', `undefined entity ${whole.slice(0, 12)}`);
    const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number.parseInt(m[2] ?? '', 10);
    if (!isXmlChar(code))
      throw new XmlError('MALFORMED', 'character reference to an invalid character');
    return String.fromCodePoint(code);
  });
}

/** XML 1.0 `Char`: refuses C0 controls other than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF. */
function checkChars(v: string): string {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0x20 && c < 0xd800) continue;
    if (c === 0x09 || c === 0x0a || c === 0x0d) continue;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = v.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    } else if (c >= 0xe000 && c <= 0xfffd) {
      continue;
    }
    throw new XmlError('MALFORMED', 'value contains a character XML does not allow');
  }
  return v;
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x09 ||
    code === 0x0a ||
    code === 0x0d ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

function isNameStart(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f;
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 0x30 && c <= 0x39);
}

/**
 * Encodes a flat message. `undefined`/`null` fields are left out; every value that is not
 * plain ASCII letters/digits/`._-` goes in CDATA (split where it contains `]]>`).
 */
export function encodeXml(
  fields: Readonly<Record<string, string | number | null | undefined>>,
  root = 'xml',
): string {
  let out = `<${root}>`;
  for (const [name, raw] of Object.entries(fields)) {
    if (raw === undefined || raw === null) continue;
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
      throw new TypeError(`invalid XML field name: ${JSON.stringify(name)}`);
    }
    const value = typeof raw === 'number' ? String(raw) : raw;
    out += `<${name}>${encodeValue(value)}</${name}>`;
  }
  return `${out}</${root}>`;
}

function encodeValue(value: string): string {
  if (/^[A-Za-z0-9._-]*$/.test(value)) return value;
  checkChars(value);
  return `<![CDATA[${value.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`;
}
