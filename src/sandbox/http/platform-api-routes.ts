/**
 * The sandbox API's mini program platform part: the user confirming receipt, subscribing and
 * sharing a phone number; the admin console's push configuration and trade management; and
 * for tests the pushes sent, the messages sent, WeChat's view of an order's shipping and the
 * access_tokens issued (counts only, never a token).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { SandboxEngine } from '../engine.js';
import { revokeTokens, tokenStats } from '../platform/access-tokens.js';
import { issuePhoneCode, subscribe } from '../platform/messages.js';
import { PushUrlCheckError } from '../platform/push-sender.js';
import { ConfirmRefusal, orderView } from '../platform/shipping.js';
import { ApiError } from './api-errors.js';
import {
  ConfirmReceiptBody,
  MessagesQuery,
  NoBody,
  PhoneCodeBody,
  PushBody,
  PushConfigBody,
  SubscriptionsBody,
  TradeManagedBody,
  TradeParams,
} from './api-schemas.js';

export const platformApiRoutes: FastifyPluginAsyncTypebox<{ engine: SandboxEngine }> = async (
  app,
  { engine },
) => {
  const { platform, core } = engine;

  app.post(
    '/sandbox/v1/confirm-receipt',
    { schema: { body: ConfirmReceiptBody } },
    async (request) => {
      const { outTradeNo, transactionId, method } = request.body;
      if (!outTradeNo === !transactionId) {
        throw new ApiError(400, 'VALIDATION_FAILED', 'give outTradeNo or transactionId (one)');
      }
      try {
        return { order: platform.confirmReceipt({ outTradeNo, transactionId }, method ?? 'user') };
      } catch (err) {
        throw confirmError(err);
      }
    },
  );

  app.get(
    '/sandbox/v1/shipping/:outTradeNo',
    { schema: { params: TradeParams } },
    async (request) => {
      const trade = core.state.trades.get(core.credentials.mchId, request.params.outTradeNo);
      if (!trade?.transaction_id)
        throw new ApiError(404, 'NOT_FOUND', 'no paid trade with this number');
      const shipment = core.state.platform.shipment(trade.transaction_id);
      return { order: orderView(core, trade, shipment) };
    },
  );

  const pushConfig = () => {
    const settings = platform.pushes.settings();
    return {
      pushConfig: settings
        ? {
            url: settings.url,
            format: settings.format,
            encrypted: Boolean(settings.encodingAesKey),
          }
        : null,
    };
  };
  app.get('/sandbox/v1/push-config', async () => pushConfig());
  app.post('/sandbox/v1/push-config', { schema: { body: PushConfigBody } }, async (request) => {
    try {
      await platform.pushes.configure(request.body);
    } catch (err) {
      if (err instanceof PushUrlCheckError)
        throw new ApiError(422, 'PUSH_URL_CHECK_FAILED', err.message);
      if (err instanceof Error && err.name === 'MiniProgramApiError') {
        throw new ApiError(400, 'VALIDATION_FAILED', err.message);
      }
      throw err;
    }
    return pushConfig();
  });

  app.get('/sandbox/v1/pushes', async () => {
    await platform.pushes.idle();
    return {
      pushes: platform.pushes.pushes().map((p) => ({
        id: p.id,
        event: p.event,
        transactionId: p.transaction_id,
        message: JSON.parse(p.message) as unknown,
        url: p.url,
        status: p.status,
        attempts: p.attempts,
        httpStatus: p.http_status,
        reply: p.reply,
        error: p.error,
        createdAt: new Date(p.created_at).toISOString(),
      })),
    };
  });
  app.post('/sandbox/v1/pushes', { schema: { body: PushBody } }, async (request, reply) => {
    const { event, outTradeNo } = request.body;
    if (event === 'trade_manage_remind_shipping' && !outTradeNo) {
      throw new ApiError(
        400,
        'VALIDATION_FAILED',
        'outTradeNo is required for trade_manage_remind_shipping',
      );
    }
    try {
      const id = platform.remind(event, outTradeNo);
      return reply.code(202).send({ id });
    } catch (err) {
      throw confirmError(err);
    }
  });

  app.get('/sandbox/v1/trade-management', async () => ({ managed: platform.tradeManaged }));
  app.post(
    '/sandbox/v1/trade-management',
    { schema: { body: TradeManagedBody } },
    async (request) => {
      platform.tradeManaged = request.body.managed;
      return { managed: platform.tradeManaged };
    },
  );

  app.post(
    '/sandbox/v1/subscriptions',
    { schema: { body: SubscriptionsBody } },
    async (request) => {
      try {
        return { subscriptions: subscribe(core, request.body.openid, request.body.templateIds) };
      } catch (err) {
        if (err instanceof RangeError) throw new ApiError(404, 'NOT_FOUND', err.message);
        throw err;
      }
    },
  );

  app.get(
    '/sandbox/v1/subscribe-messages',
    { schema: { querystring: MessagesQuery } },
    async (request) => ({
      messages: core.state.platform.messages(request.query.openid).map((m) => ({
        openid: m.openid,
        templateId: m.template_id,
        body: JSON.parse(m.body) as unknown,
        sentAt: new Date(m.sent_at).toISOString(),
        errcode: m.errcode,
      })),
    }),
  );

  app.post('/sandbox/v1/phone-code', { schema: { body: PhoneCodeBody } }, async (request) => ({
    code: issuePhoneCode(core, request.body.openid, request.body.phoneNumber ?? '13800138000'),
  }));

  app.get('/sandbox/v1/access-token', async () => tokenStats(core));
  app.post('/sandbox/v1/access-token/revoke', { schema: { body: NoBody } }, async () => ({
    revoked: revokeTokens(core),
  }));
};

function confirmError(err: unknown): unknown {
  if (!(err instanceof ConfirmRefusal)) return err;
  return new ApiError(err.code === 'NOT_FOUND' ? 404 : 409, err.code, err.message);
}
