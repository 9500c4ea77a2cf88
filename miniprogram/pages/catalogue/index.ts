// Catalogue: the server's products; pick quantities, then go to the order confirm page.
import { minipay } from '../../services/minipay';
import { errorText, yuan } from '../../utils/format';

interface Line {
  id: string;
  name: string;
  description: string;
  price: string;
  priceFen: number;
  quantity: number;
}

/** The most of one product per order, as the server allows. */
const MAX_QUANTITY = 99;

Page({
  data: {
    loading: true,
    error: '',
    lines: [] as Line[],
    count: 0,
    total: yuan(0),
  },

  onLoad() {
    this.load();
  },

  onPullDownRefresh() {
    this.load().then(() => wx.stopPullDownRefresh());
  },

  async load() {
    this.setData({ loading: true, error: '' });
    try {
      const products = await minipay.listProducts();
      const lines = products.map((p) => ({
        id: p.id,
        name: p.name,
        description: p.description ?? '',
        price: yuan(p.priceFen),
        priceFen: p.priceFen,
        quantity: 0,
      }));
      this.setData({ lines, loading: false });
      this.updateTotal();
    } catch (err) {
      this.setData({ loading: false, error: errorText(err) });
    }
  },

  change(e: WechatMiniprogram.TouchEvent) {
    const { id, delta } = e.currentTarget.dataset as { id: string; delta: string };
    const lines = this.data.lines.map((line) =>
      line.id === id
        ? { ...line, quantity: Math.min(MAX_QUANTITY, Math.max(0, line.quantity + Number(delta))) }
        : line,
    );
    this.setData({ lines });
    this.updateTotal();
  },

  updateTotal() {
    let count = 0;
    let totalFen = 0;
    for (const line of this.data.lines) {
      count += line.quantity;
      totalFen += line.quantity * line.priceFen;
    }
    this.setData({ count, total: yuan(totalFen) });
  },

  checkout() {
    const items = this.data.lines
      .filter((line) => line.quantity > 0)
      .map((line) => ({ productId: line.id, quantity: line.quantity }));
    if (items.length === 0) return;
    wx.navigateTo({
      url: `/pages/confirm/index?items=${encodeURIComponent(JSON.stringify(items))}`,
    });
  },

  openOrders() {
    wx.navigateTo({ url: '/pages/orders/index' });
  },

  openProfile() {
    wx.navigateTo({ url: '/pages/profile/index' });
  },
});
