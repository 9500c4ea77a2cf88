/**
 * WeChat's payment and refund notifications, POST /wechatpay/v2/notify and /refund-notify. The body is read raw (any
 * content type, at most 64 KiB) and handed to the gateway to verify; the reply is in WeChat's
 * format: ok for handled and duplicate messages, retry when our side failed, reject otherwise.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { NotifyOutcome } from '../../../payments/gateway/gateway.js';
import type { ServerOptions } from '../../options.js';

export const NOTIFY_BODY_LIMIT = 64 * 1024;

export const notifyRoutes: FastifyPluginAsync<ServerOptions> = async (app, { payments }) => {
  const { gateway } = payments.context;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    '*',
    { parseAs: 'buffer', bodyLimit: NOTIFY_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );
  app.setErrorHandler((err, request, reply) => {
    // Oversized or unreadable bodies: WeChat's format, never JSON, and nothing recorded.
    const tooLarge = (err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    request.log.warn({ code: (err as { code?: string }).code }, 'notify body refused');
    const r = gateway.notifyReply('reject', tooLarge ? 'body too large' : 'unreadable body');
    return reply
      .code(tooLarge ? 413 : r.statusCode)
      .type(r.contentType)
      .send(r.body);
  });

  app.post(
    '/wechatpay/v2/notify',
    { bodyLimit: NOTIFY_BODY_LIMIT, schema: { tags: ['wechat callbacks'] } },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const handled = await payments.confirmation.handleNotify({ headers: request.headers, body });
      request.logDetail = { notify: 'payment', outcome: handled.outcome, result: handled.result };
      const r = gateway.notifyReply(handled.outcome as NotifyOutcome, handled.message);
      return reply.code(r.statusCode).type(r.contentType).send(r.body);
    },
  );

  app.post(
    '/wechatpay/v2/refund-notify',
    { bodyLimit: NOTIFY_BODY_LIMIT, schema: { tags: ['wechat callbacks'] } },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const handled = await payments.refundNotifications.handle({ headers: request.headers, body });
      request.logDetail = { notify: 'refund', outcome: handled.outcome, result: handled.result };
      const r = gateway.notifyReply(handled.outcome, handled.message);
      return reply.code(r.statusCode).type(r.contentType).send(r.body);
    },
  );
};
