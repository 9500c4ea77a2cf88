// The ceiling of the notify benchmark: a bare Fastify route that reads the XML body as a
// string and answers SUCCESS, doing no parsing, verification or storage.
//
//   node bench/baselines/bare-fastify.mjs
import Fastify from 'fastify';

const SUCCESS =
  '<xml><return_code><![CDATA[SUCCESS]]></return_code><return_msg><![CDATA[OK]]></return_msg></xml>';
const app = Fastify({ logger: false, bodyLimit: 64 * 1024 });
app.addContentTypeParser(
  ['text/xml', 'application/xml'],
  { parseAs: 'string' },
  (_req, body, done) => done(null, body),
);
app.post('/wechatpay/v2/notify', async (_req, reply) => reply.type('text/xml').send(SUCCESS));

const url = await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`bare fastify listening on ${url}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
