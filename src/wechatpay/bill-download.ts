/**
 * What a bill download answers: the bill (text, gzip when asked), or, with the same status 200,
 * an XML message instead ("No Bill Exist", "Bill Creating", a refusal). The first bytes tell
 * them apart; a bill is handed on as a stream, an XML message is read whole (capped).
 */
import { buffers, head, plainBytes, prepend } from './bill-lines.js';
import { WechatPayError } from './errors.js';

export type BillAnswer = { bill: AsyncIterable<Buffer> } | { xml: Buffer };

const BOM_AND_SPACE = /^(\uFEFF|\s)*/;

/** Looks at the first bytes of an answer (gunzipped) and says which it is. */
export async function billAnswer(
  body: AsyncIterable<Buffer>,
  maxXmlBytes: number,
  what: string,
): Promise<BillAnswer> {
  const plain = buffers(plainBytes(body).chunks);
  const first = await head(plain, 64);
  const start = first.toString('utf8').replace(BOM_AND_SPACE, '');
  if (!start.startsWith('<')) return { bill: prepend(first, plain) };
  const chunks = [first];
  let size = first.length;
  for await (const chunk of plain) {
    size += chunk.length;
    if (size > maxXmlBytes) {
      throw new WechatPayError(
        'invalid',
        'RESPONSE_TOO_LARGE',
        `${what}: an XML answer larger than ${maxXmlBytes} bytes; refused unread`,
      );
    }
    chunks.push(chunk);
  }
  return { xml: Buffer.concat(chunks) };
}
