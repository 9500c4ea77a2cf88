/**
 * Subscribe messages (订阅消息) on payment and refund success: an outbox subscriber fills the
 * configured template with the order's values and sends it. What WeChat answers is recorded
 * (`subscribe_messages`) and never blocks anything: the user not subscribing (43101), a value
 * WeChat refuses, even WeChat being down, end as a recorded outcome, not as an error the
 * outbox would retry (a failing subscriber holds back every later event). So a message WeChat
 * could not take is not sent again; each event sends at most one.
 */

import type { Order, Refund } from '../../contract/index.js';
import {
  buildTemplateData,
  MiniProgramApiError,
  type TemplateValue,
} from '../../miniprogram-api/index.js';
import type { PaymentsContext } from '../context.js';
import type { MinipayEvent } from '../events/events.js';
import type { MiniProgramPlatform } from '../platform/platform.js';
import { claimMessage, recordOutcome } from './subscribe-messages-repo.js';
import type { SubscribeSettings, SubscribeTemplate } from './subscribe-settings.js';

export class SubscribeMessages {
  constructor(
    private readonly ctx: PaymentsContext,
    private readonly platform: MiniProgramPlatform,
    private readonly settings: SubscribeSettings,
  ) {}

  /** The template ids the mini program asks the user to accept at checkout. */
  templateIds(): { paid: string | null; refunded: string | null } {
    return {
      paid: this.settings.paid?.templateId ?? null,
      refunded: this.settings.refunded?.templateId ?? null,
    };
  }

  async onEvent(event: MinipayEvent): Promise<void> {
    const order = event.data.order as Order;
    if (event.type === 'order.paid' && this.settings.paid) {
      await this.send(event.id, 'paid', this.settings.paid, order, this.values(order));
    } else if (event.type === 'refund.succeeded' && this.settings.refunded) {
      const refund = event.data.refund as Refund;
      const values = {
        ...this.values(order),
        refundFen: refund.amountFen,
        refundedAt: new Date(refund.succeededAt ?? event.createdAt),
      };
      await this.send(event.id, 'refunded', this.settings.refunded, order, values);
    }
  }

  private values(order: Order): Record<string, TemplateValue | undefined> {
    return {
      outTradeNo: order.outTradeNo,
      description: order.description,
      productName: order.items[0]?.name ?? order.description,
      totalFen: order.totalFen,
      paidAt: order.paidAt ? new Date(order.paidAt) : undefined,
      storeName: this.ctx.settings.storeName,
    };
  }

  private async send(
    eventId: string,
    kind: 'paid' | 'refunded',
    template: SubscribeTemplate,
    order: Order,
    values: Record<string, TemplateValue | undefined>,
  ): Promise<void> {
    const row = await this.ctx.db
      .selectFrom('orders')
      .select('openid')
      .where('id', '=', order.id)
      .executeTakeFirst();
    if (!row) return;
    const claimed = await claimMessage(this.ctx.db, {
      eventId,
      orderId: order.id,
      kind,
      templateId: template.templateId,
      openid: row.openid,
      at: this.ctx.clock(),
    });
    if (!claimed) return;
    try {
      const result = await this.platform.sendSubscribeMessage({
        toOpenid: row.openid,
        templateId: template.templateId,
        data: buildTemplateData(template.fields, values),
        ...(this.settings.page && { page: `${this.settings.page}?orderId=${order.id}` }),
        ...(this.settings.miniprogramState && { miniprogramState: this.settings.miniprogramState }),
      });
      if (result.sent) await recordOutcome(this.ctx.db, eventId, 'sent', null, null);
      else {
        const code = result.errcode === undefined ? result.refusal : String(result.errcode);
        await recordOutcome(this.ctx.db, eventId, 'refused', code, result.message);
      }
      this.ctx.metrics.inc('minipay_subscribe_messages_total', {
        kind,
        outcome: result.sent ? 'sent' : 'refused',
      });
    } catch (err) {
      const known = err instanceof MiniProgramApiError ? err : undefined;
      if (!known) this.ctx.logger.error({ err, orderId: order.id }, 'subscribe message failed');
      else this.ctx.logger.warn({ code: known.code, orderId: order.id }, known.message);
      const outcome = known?.kind === 'rejected' ? 'refused' : 'failed';
      await recordOutcome(
        this.ctx.db,
        eventId,
        outcome,
        known?.code ?? 'INTERNAL',
        known?.message ?? 'see the log',
      );
      this.ctx.metrics.inc('minipay_subscribe_messages_total', { kind, outcome });
    }
  }
}
