/**
 * The demo's state and actions: what a mini program page does with the client library.
 * The component (DemoPhone.vue) only renders this.
 */
import { reactive, ref, shallowRef } from 'vue';
import {
  MinipayError,
  type Order,
  type OrderShipping,
  type Product,
} from '../../src/client/index.js';
import { bilingualStatus } from '../common/labels.js';
import { cashierVerdict, createDemoPhone, type DemoPhone, loadDemoConfig } from './demo-wx.js';

/**
 * How long the page keeps watching an open order: PENDING for the notify, CLOSING until WeChat
 * has closed it (WeChat allows that 5 minutes after the order, in the real-time demo).
 */
const WATCH_LIMIT_MS = 6 * 60_000;
const WATCH_INTERVAL_MS = 1000;
/** How long the page waits for a paid order's shipment to reach WeChat. */
const SHIPPING_WATCH_MS = 20_000;
/** The server may still change these orders by itself. */
const OPEN = ['PENDING', 'CLOSING'];

export function useDemo() {
  const phase = ref<'loading' | 'unavailable' | 'login' | 'shop'>('loading');
  const problem = ref('');
  const busy = ref(false);
  const openid = ref('');
  const products = ref<Product[]>([]);
  const quantities = reactive<Record<string, number>>({});
  const order = ref<Order | null>(null);
  /** The shown order's delivery, once it is paid. */
  const shipping = ref<OrderShipping | null>(null);
  const orders = ref<Order[]>([]);
  const log = ref<string[]>([]);
  const cashierUrl = ref('');
  const cashierFrame = shallowRef<HTMLIFrameElement | null>(null);
  let phone: DemoPhone | undefined;
  let watching = 0;

  const note = (line: string) => {
    const time = new Date().toTimeString().slice(0, 8);
    log.value = [`${time}  ${line}`, ...log.value].slice(0, 40);
  };

  const fail = (err: unknown) => {
    const message =
      err instanceof MinipayError ? `${err.code}: ${err.message}` : (err as Error).message;
    problem.value = message;
    note(`✖ ${message}`);
  };

  /** The cashier sheet: show the sandbox's page in a frame until it reports the user's choice. */
  const openCashier = async (url: string) => {
    cashierUrl.value = url;
    note('wx.requestPayment → the sandbox cashier');
    try {
      return await cashierVerdict(() => cashierFrame.value?.contentWindow);
    } finally {
      cashierUrl.value = '';
    }
  };

  async function start() {
    try {
      const config = await loadDemoConfig();
      if (config.mode !== 'demo') {
        phase.value = 'unavailable';
        return;
      }
      phone = createDemoPhone(config, openCashier);
      await refreshProducts();
      for (const p of products.value) quantities[p.id] = 1;
      phase.value = 'login';
    } catch (err) {
      phase.value = 'unavailable';
      fail(err);
    }
  }

  async function run(work: () => Promise<void>) {
    if (busy.value) return;
    busy.value = true;
    problem.value = '';
    try {
      await work();
    } catch (err) {
      fail(err);
    } finally {
      busy.value = false;
    }
  }

  const login = () =>
    run(async () => {
      if (!phone) return;
      const session = await phone.client.login();
      openid.value = phone.openid() ?? '';
      note(`wx.login → POST /api/v1/login: user ${session.user.id}`);
      phase.value = 'shop';
      await refreshOrders();
    });

  const show = (next: Order) => {
    if (order.value?.id !== next.id) shipping.value = null;
    order.value = next;
    orders.value = [next, ...orders.value.filter((o) => o.id !== next.id)];
  };

  /** Re-reads the order until it is no longer open (paid, closed) or the limit passes. */
  async function watch(id: string) {
    const mine = ++watching;
    const deadline = Date.now() + WATCH_LIMIT_MS;
    while (mine === watching && Date.now() < deadline && phone) {
      const current = await phone.client.order(id);
      if (mine !== watching) return;
      show(current);
      if (!OPEN.includes(current.status)) {
        note(`GET /api/v1/orders/${id} → ${bilingualStatus(current.status)}`);
        return;
      }
      await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
    }
  }

  /** Reads the paid order's delivery; a virtual order is shipped by the server within seconds. */
  async function followShipping(id: string) {
    const deadline = Date.now() + SHIPPING_WATCH_MS;
    while (phone && order.value?.id === id) {
      shipping.value = await phone.client.shipping(id);
      if (shipping.value?.stage !== 'preparing' || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, WATCH_INTERVAL_MS));
    }
  }

  const confirmReceipt = () =>
    run(async () => {
      if (!phone || !order.value) return;
      note('wx.openBusinessView({ businessType: "weappOrderConfirm" }) → the sandbox confirms');
      shipping.value = await phone.client.confirmReceipt(order.value);
      note(`GET /api/v1/orders/${order.value.id}/shipping → ${shipping.value?.stage ?? 'none'}`);
    });

  async function payFor(target: Parameters<DemoPhone['client']['pay']>[0]) {
    if (!phone) return;
    const result = await phone.client.pay(target);
    show(result.order);
    if (result.status === 'paid') void followShipping(result.order.id).catch(fail);
    note(`pay → ${result.status} (server: ${bilingualStatus(result.order.status)})`);
    if (result.error) problem.value = `${result.error.code}: ${result.error.message}`;
    if (result.order.status === 'PENDING' && result.status !== 'cancelled') {
      void watch(result.order.id).catch(fail);
    }
  }

  const buy = (product: Product) =>
    run(async () => {
      if (!phone) return;
      const quantity = quantities[product.id] ?? 1;
      const checkout = await phone.client.checkout([{ productId: product.id, quantity }]);
      show(checkout.order);
      note(
        `POST /api/v1/orders (Idempotency-Key) → ${checkout.order.id} ${bilingualStatus(checkout.order.status)}`,
      );
      await refreshProducts();
      if (checkout.payment) await payFor(checkout);
    });

  const payAgain = () =>
    run(async () => {
      if (order.value) await payFor(order.value);
    });

  const cancel = () =>
    run(async () => {
      if (!phone || !order.value) return;
      watching++;
      const closed = await phone.client.cancel(order.value);
      show(closed);
      note(`POST /api/v1/orders/${closed.id}/cancel → ${bilingualStatus(closed.status)}`);
      await refreshProducts();
      // CLOSING: the stock comes back when WeChat has closed the trade (CLOSED).
      if (closed.status === 'CLOSING') void watch(closed.id).then(refreshProducts).catch(fail);
    });

  const refresh = () =>
    run(async () => {
      if (!phone || !order.value) return;
      show(await phone.client.order(order.value.id));
      shipping.value = await phone.client.shipping(order.value.id);
      await refreshOrders();
      await refreshProducts();
    });

  /** The catalogue with the stock left (an order takes it, a closed one gives it back). */
  async function refreshProducts() {
    if (phone) products.value = await phone.client.listProducts();
  }

  async function refreshOrders() {
    if (!phone) return;
    orders.value = (await phone.client.orders({ limit: 10 })).orders;
  }

  const select = (picked: Order) => {
    watching++;
    show(picked);
    if (picked.paidAt) void followShipping(picked.id).catch(fail);
  };

  const changeQuantity = (id: string, delta: number) => {
    quantities[id] = Math.min(99, Math.max(1, (quantities[id] ?? 1) + delta));
  };

  const reset = () => phone?.reset();

  return {
    phase,
    problem,
    busy,
    openid,
    products,
    quantities,
    order,
    shipping,
    orders,
    log,
    cashierUrl,
    cashierFrame,
    start,
    login,
    buy,
    payAgain,
    cancel,
    refresh,
    confirmReceipt,
    select,
    changeQuantity,
    reset,
  };
}
