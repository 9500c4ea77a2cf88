/**
 * The signed-in user (`/api/v1/me`): the profile (nickname and avatar from WeChat's fill-in
 * components), the phone number by the `getPhoneNumber` code (masked in every answer), and the
 * subscribe message templates to offer at checkout.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { MeAnswer, PhoneBody, ProfilePatch, SubscribeTemplates } from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { perUser } from '../../plugins/rate-limits.js';
import { userRoute } from './schema.js';

export const meRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (app, options) => {
  const { profiles } = options.payments;
  const limited = perUser(options.rateLimits.orderActionsPerMinute);

  app.get(
    '/api/v1/me',
    { schema: userRoute({ response: { 200: MeAnswer } }) },
    async (request) => ({
      user: await profiles.me(request.user!),
    }),
  );

  // PATCH as the API says, and POST for mini programs: wx.request cannot send PATCH.
  for (const method of ['PATCH', 'POST'] as const) {
    app.route({
      method,
      url: '/api/v1/me',
      config: limited,
      schema: userRoute({ body: ProfilePatch, response: { 200: MeAnswer } }),
      handler: async (request) => ({ user: await profiles.update(request.user!, request.body) }),
    });
  }

  app.post(
    '/api/v1/me/phone',
    { config: limited, schema: userRoute({ body: PhoneBody, response: { 200: MeAnswer } }) },
    async (request) => ({ user: await profiles.sharePhone(request.user!, request.body.code) }),
  );

  app.delete(
    '/api/v1/me/phone',
    { schema: userRoute({ response: { 200: MeAnswer } }) },
    async (request) => ({ user: await profiles.forgetPhone(request.user!) }),
  );

  app.get(
    '/api/v1/subscribe-templates',
    { schema: userRoute({ response: { 200: SubscribeTemplates } }) },
    async () => options.payments.subscribeMessages?.templateIds() ?? { paid: null, refunded: null },
  );
};
