// My orders: newest first, a page at a time; tap one for its details and actions.
import { minipay } from '../../services/minipay';
import { errorText } from '../../utils/format';
import { type OrderView, orderView } from '../../utils/order-view';

const PAGE_SIZE = 20;

Page({
  data: {
    orders: [] as OrderView[],
    nextCursor: null as string | null,
    loading: true,
    error: '',
  },

  onShow() {
    this.reload();
  },

  onPullDownRefresh() {
    this.reload().then(() => wx.stopPullDownRefresh());
  },

  onReachBottom() {
    if (this.data.nextCursor && !this.data.loading) this.more();
  },

  async reload() {
    this.setData({ loading: true, error: '' });
    try {
      const page = await minipay.orders({ limit: PAGE_SIZE });
      this.setData({
        orders: page.orders.map(orderView),
        nextCursor: page.nextCursor,
        loading: false,
      });
    } catch (err) {
      this.setData({ loading: false, error: errorText(err) });
    }
  },

  async more() {
    const cursor = this.data.nextCursor;
    if (!cursor) return;
    this.setData({ loading: true });
    try {
      const page = await minipay.orders({ limit: PAGE_SIZE, cursor });
      this.setData({
        orders: this.data.orders.concat(page.orders.map(orderView)),
        nextCursor: page.nextCursor,
        loading: false,
      });
    } catch (err) {
      this.setData({ loading: false, error: errorText(err) });
    }
  },

  open(e: WechatMiniprogram.TouchEvent) {
    const { id } = e.currentTarget.dataset as { id: string };
    wx.navigateTo({ url: `/pages/result/index?id=${encodeURIComponent(id)}` });
  },
});
