/**
 * A refund whose answer is lost is asked again (same out_refund_no) up to `refundAttempts`
 * times, its own setting: `prepayAttempts` is checkout's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RefundAccepted, RefundRequest } from '../../../src/payments/index.js';
import { ambiguous, MemoryGateway } from '../../support/memory-gateway.js';
import { buildPayments, DEMO_PRODUCTS } from '../../support/payments.js';
import { describeOnStores } from '../../support/stores.js';

/** The memory gateway, with refunds whose first answers are lost. */
class LosingGateway extends MemoryGateway {
  lost = 0;
  readonly refunds: RefundRequest[] = [];
  override async refund(request: RefundRequest): Promise<RefundAccepted> {
    this.refunds.push(request);
    if (this.lost > 0) {
      this.lost--;
      throw ambiguous();
    }
    return { outRefundNo: request.outRefundNo, refundId: '50000001', refundFen: request.refundFen };
  }
}

describeOnStores(
  'refund attempts',
  (stores) => {
    async function paidOrder(refundAttempts: number, lost: number) {
      const store = await stores.fresh();
      const gateway = new LosingGateway();
      const payments = buildPayments(store, gateway, {
        settings: { prepayAttempts: 1, refundAttempts },
      });
      await payments.catalogue.seed(DEMO_PRODUCTS);
      const { token } = await payments.login.login('code:o-refund');
      const user = (await payments.login.authenticate(token))!;
      const { body } = await payments.checkout.checkout(
        user,
        { items: [{ productId: 'prd_tea', quantity: 1 }] },
        'k1',
        '127.0.0.1',
      );
      const notify = gateway.pay(body.order.outTradeNo);
      await payments.confirmation.handleNotify({ headers: {}, body: notify });
      gateway.lost = lost;
      return { payments, gateway, orderId: body.order.id };
    }

    test('asked again while the answer is lost, up to refundAttempts, one number', async () => {
      const { payments, gateway, orderId } = await paidOrder(4, 3);
      const { body } = await payments.refunds.request(orderId, { amountFen: 600 }, 'r1');
      assert.equal(body.refund.status, 'PROCESSING');
      assert.equal(body.refund.refundId, '50000001');
      assert.equal(gateway.refunds.length, 4);
      assert.equal(new Set(gateway.refunds.map((r) => r.outRefundNo)).size, 1);
    });

    test('past refundAttempts it is left PROCESSING for the follow-up', async () => {
      const { payments, gateway, orderId } = await paidOrder(2, 3);
      const { body } = await payments.refunds.request(orderId, { amountFen: 600 }, 'r1');
      assert.equal(body.refund.status, 'PROCESSING');
      assert.equal(body.refund.refundId, null);
      assert.equal(gateway.refunds.length, 2);
    });
  },
  ['sqlite'],
);
