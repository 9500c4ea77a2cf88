// Order confirm: the chosen lines, then "Pay" creates the order on the server (which prices
// it) and opens the payment sheet with the server's parameters.
import {
  type Checkout,
  type CheckoutItem,
  isSafeToRetry,
  newIdempotencyKey,
} from '../../lib/minipay';
import { minipay } from '../../services/minipay';
import { errorText, yuan } from '../../utils/format';

interface Line {
  name: string;
  quantity: number;
  amount: string;
}

function parseItems(raw: string | undefined): CheckoutItem[] {
  try {
    const items = JSON.parse(decodeURIComponent(raw ?? '')) as CheckoutItem[];
    return Array.isArray(items) ? items : [];
  } catch {
    return [];
  }
}

Page({
  data: {
    items: [] as CheckoutItem[],
    lines: [] as Line[],
    estimate: '',
    loading: true,
    submitting: false,
    error: '',
    /** Kept across taps until an order exists, so a retried tap can never order twice. */
    idempotencyKey: '',
  },

  onLoad(query: Record<string, string | undefined>) {
    const items = parseItems(query.items);
    this.setData({ items });
    this.describe(items);
  },

  /** Names and an estimate from the catalogue; the server's price is what will be charged. */
  async describe(items: CheckoutItem[]) {
    if (items.length === 0) {
      this.setData({ loading: false, error: 'Your cart is empty. Go back and pick something.' });
      return;
    }
    try {
      const products = await minipay.listProducts();
      let estimateFen = 0;
      const lines = items.map((item) => {
        const product = products.find((p) => p.id === item.productId);
        const amountFen = (product?.priceFen ?? 0) * item.quantity;
        estimateFen += amountFen;
        return {
          name: product?.name ?? item.productId,
          quantity: item.quantity,
          amount: yuan(amountFen),
        };
      });
      this.setData({ lines, estimate: yuan(estimateFen), loading: false });
    } catch (err) {
      this.setData({ loading: false, error: errorText(err) });
    }
  },

  async submit() {
    if (this.data.submitting) return;
    const idempotencyKey = this.data.idempotencyKey || newIdempotencyKey();
    this.setData({ submitting: true, error: '', idempotencyKey });
    let checkout: Checkout;
    try {
      checkout = await minipay.checkout(this.data.items, { idempotencyKey });
    } catch (err) {
      this.setData({
        submitting: false,
        error: errorText(err),
        // No answer, still in progress or a server failure: the order may exist, so the next
        // tap must send the same key; any other refusal made nothing, so the next is new.
        idempotencyKey: isSafeToRetry(err) ? idempotencyKey : '',
      });
      return;
    }
    this.setData({ idempotencyKey: '' });
    try {
      const result = await minipay.pay(checkout);
      const message = encodeURIComponent(result.error?.message ?? '');
      wx.redirectTo({
        url: `/pages/result/index?id=${encodeURIComponent(result.order.id)}&outcome=${result.status}&message=${message}`,
      });
    } catch (err) {
      // The order exists; the result page can pay it again or cancel it.
      wx.redirectTo({
        url: `/pages/result/index?id=${encodeURIComponent(checkout.order.id)}&message=${encodeURIComponent(errorText(err))}`,
      });
    }
  },
});
