// Payment result: what the server says about the order, and what can be done next
// (pay again, cancel, check again). The page never decides an order is paid by itself.
import { type Order, type OrderShipping, type PayResult, resultOf } from '../../lib/minipay';
import { minipay } from '../../services/minipay';
import { errorText } from '../../utils/format';
import { type OrderView, orderView } from '../../utils/order-view';

type Outcome = PayResult['status'] | 'open';

const HEADLINES: Record<Outcome, string> = {
  paid: 'Payment received',
  cancelled: 'Payment cancelled',
  failed: 'Payment failed',
  pending: 'Waiting for WeChat to confirm the payment',
  open: 'Awaiting payment',
};

const OUTCOMES: readonly string[] = Object.keys(HEADLINES);

const STAGES: Record<OrderShipping['stage'], string> = {
  preparing: 'Preparing',
  shipped: 'Shipped',
  received: 'Received',
};

interface ShippingView {
  stage: string;
  parcels: string[];
  preparing: boolean;
  canConfirm: boolean;
}

function shippingView(shipping: OrderShipping): ShippingView {
  return {
    stage: STAGES[shipping.stage],
    parcels: shipping.parcels.map((p) =>
      p.expressCompany ? `${p.expressCompany} ${p.trackingNo ?? ''}` : p.itemDesc,
    ),
    preparing: shipping.stage === 'preparing',
    canConfirm: shipping.confirmReceipt !== null,
  };
}

Page({
  data: {
    id: '',
    loading: true,
    busy: false,
    outcome: 'open' as Outcome,
    headline: '',
    message: '',
    order: null as OrderView | null,
    shipping: null as ShippingView | null,
  },

  /** Orders fetched on this page, by id, for pay() and cancel(). */
  current: null as Order | null,

  onLoad(query: Record<string, string | undefined>) {
    const outcome = OUTCOMES.includes(query.outcome ?? '') ? (query.outcome as Outcome) : undefined;
    this.setData({
      id: decodeURIComponent(query.id ?? ''),
      message: decodeURIComponent(query.message ?? ''),
    });
    this.load(outcome);
  },

  async load(outcome?: Outcome) {
    try {
      const order = await minipay.order(this.data.id);
      const shown = outcome ?? (order.status === 'PENDING' ? 'open' : resultOf(order).status);
      this.show(order, shown, this.data.message);
    } catch (err) {
      this.setData({
        loading: false,
        headline: 'Could not load the order',
        message: errorText(err),
      });
    }
  },

  show(order: Order, outcome: Outcome, message = '') {
    const paidNow = order.paidAt !== null && this.current?.paidAt == null;
    this.current = order;
    this.setData({
      loading: false,
      busy: false,
      order: orderView(order),
      outcome,
      headline: HEADLINES[outcome],
      message,
    });
    if (paidNow) void this.loadShipping();
  },

  showResult(result: PayResult) {
    this.show(result.order, result.status, result.error?.message ?? '');
  },

  /** The paid order's delivery (Refresh asks again: a virtual one ships within seconds). */
  async loadShipping() {
    try {
      const shipping = await minipay.shipping(this.data.id);
      this.setData({ shipping: shipping && shippingView(shipping) });
    } catch (err) {
      this.setData({ message: errorText(err) });
    }
  },

  /** WeChat's own receipt page (wx.openBusinessView, weappOrderConfirm). */
  async confirmReceipt() {
    if (!this.current || this.data.busy) return;
    this.setData({ busy: true, message: '' });
    try {
      const shipping = await minipay.confirmReceipt(this.current);
      this.setData({ busy: false, shipping: shipping && shippingView(shipping) });
    } catch (err) {
      this.setData({ busy: false, message: errorText(err) });
    }
  },

  async pay() {
    if (!this.current || this.data.busy) return;
    this.setData({ busy: true, message: '' });
    try {
      this.showResult(await minipay.pay(this.current));
    } catch (err) {
      this.setData({ busy: false, message: errorText(err) });
    }
  },

  async check() {
    if (this.data.busy) return;
    this.setData({ busy: true, message: '' });
    try {
      this.showResult(await minipay.confirm(this.current ?? this.data.id));
    } catch (err) {
      this.setData({ busy: false, message: errorText(err) });
    }
  },

  cancel() {
    if (!this.current || this.data.busy) return;
    wx.showModal({
      title: 'Cancel this order?',
      content: 'It cannot be paid afterwards.',
      // At most 4 Chinese or 8 Latin characters, or WeChat shows no modal at all.
      confirmText: 'Cancel',
      cancelText: 'Keep',
      success: async (res) => {
        if (!res.confirm || !this.current) return;
        this.setData({ busy: true, message: '' });
        try {
          const order = await minipay.cancel(this.current);
          // CLOSING: cancelled here, closed at WeChat within minutes (WeChat's 5-minute rule).
          const cancelled = order.status === 'CLOSED' || order.status === 'CLOSING';
          this.show(order, cancelled ? 'failed' : resultOf(order).status);
          if (cancelled) this.setData({ headline: 'Order cancelled' });
        } catch (err) {
          this.setData({ busy: false, message: errorText(err) });
        }
      },
    });
  },

  shop() {
    wx.reLaunch({ url: '/pages/catalogue/index' });
  },

  orders() {
    wx.redirectTo({ url: '/pages/orders/index' });
  },
});
