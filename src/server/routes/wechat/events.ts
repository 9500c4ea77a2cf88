/**
 * Message push from WeChat's mini program platform: `GET /wechat/v1/events` (the URL check
 * WeChat runs when the push configuration is saved: answer `echostr`) and `POST` (each push:
 * answer `success`). The body is read raw, whatever its Content-Type (JSON or XML), at most
 * 64 KiB; anything that does not verify is refused with `{error:{code,message}}` and nothing
 * is recorded (docs/shipping.md).
 */
import type { FastifyPluginAsync } from 'fastify';
import { PUSH_ACK, PUSH_MAX_BYTES, type PushQuery } from '../../../miniprogram-api/index.js';
import type { ServerOptions } from '../../options.js';

export const wechatEventRoutes: FastifyPluginAsync<ServerOptions> = async (app, { payments }) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: PUSH_MAX_BYTES },
    (_req, body, done) => done(null, body),
  );
  const options = { bodyLimit: PUSH_MAX_BYTES, schema: { tags: ['wechat callbacks'] } };

  app.get('/wechat/v1/events', options, async (request, reply) => {
    const echostr = payments.pushes.verifyUrl(request.query as PushQuery);
    return reply.type('text/plain; charset=utf-8').send(echostr);
  });

  app.post('/wechat/v1/events', options, async (request, reply) => {
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const outcome = await payments.pushes.handle(request.query as PushQuery, body);
    request.logDetail = { push: outcome };
    return reply.type('text/plain; charset=utf-8').send(PUSH_ACK);
  });
};
