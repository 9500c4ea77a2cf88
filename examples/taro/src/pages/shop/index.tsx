// The shop: the server's products, a cart, and Pay (the server prices the order; the payment
// sheet gets exactly the server's signed parameters). Then the order page shows the outcome.
import { Button, Text, View } from '@tarojs/components';
import Taro, { useLoad } from '@tarojs/taro';
import {
  type Checkout,
  type CheckoutItem,
  isSafeToRetry,
  newIdempotencyKey,
  type Product,
} from 'minipay/client';
import { useRef, useState } from 'react';
import { errorText, yuan } from '../../format';
import { minipay } from '../../minipay';
import './index.css';

/** The most of one product per order, as the server allows. */
const MAX_QUANTITY = 99;

export default function Shop() {
  const [products, setProducts] = useState<Product[]>([]);
  const [cart, setCart] = useState<Record<string, number>>({});
  const [loading, setLoading] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  // Kept across taps until the order exists, so a retried tap can never order twice.
  const key = useRef('');

  const load = async () => {
    setLoading(true);
    setError('');
    try {
      setProducts(await minipay.listProducts());
    } catch (err) {
      setError(errorText(err));
    }
    setLoading(false);
  };
  useLoad(() => {
    void load();
  });

  const change = (id: string, delta: number) => {
    key.current = ''; // another cart is another order
    const quantity = Math.min(MAX_QUANTITY, Math.max(0, (cart[id] ?? 0) + delta));
    setCart({ ...cart, [id]: quantity });
  };

  const items: CheckoutItem[] = Object.entries(cart)
    .filter(([, quantity]) => quantity > 0)
    .map(([productId, quantity]) => ({ productId, quantity }));
  const totalFen = items.reduce(
    (sum, item) =>
      sum + item.quantity * (products.find((p) => p.id === item.productId)?.priceFen ?? 0),
    0,
  );

  const pay = async () => {
    if (busy || items.length === 0) return;
    key.current ||= newIdempotencyKey();
    setBusy(true);
    setError('');
    let checkout: Checkout;
    try {
      checkout = await minipay.checkout(items, { idempotencyKey: key.current });
    } catch (err) {
      // No answer, still in progress or a server failure: the order may exist, so the next
      // tap sends the same key; any other refusal made nothing, so the next tap is new.
      if (!isSafeToRetry(err)) key.current = '';
      setError(errorText(err));
      setBusy(false);
      return;
    }
    key.current = '';
    setCart({});
    let query = `id=${encodeURIComponent(checkout.order.id)}`;
    try {
      const result = await minipay.pay(checkout);
      query += `&outcome=${result.status}&message=${encodeURIComponent(result.error?.message ?? '')}`;
    } catch (err) {
      // The order exists; the order page can pay it again or cancel it.
      query += `&message=${encodeURIComponent(errorText(err))}`;
    }
    setBusy(false);
    await Taro.navigateTo({ url: `/pages/order/index?${query}` });
  };

  return (
    <View>
      {loading && <View className="muted center">Loading…</View>}
      {error && (
        <View className="error" id="error">
          {error}
        </View>
      )}
      {products.map((p) => (
        <View key={p.id} className="card product" id={`product-${p.id}`}>
          <View className="info">
            <View className="name">{p.name}</View>
            <Text className="price">{yuan(p.priceFen)}</Text>
          </View>
          <View className="stepper">
            <Button
              size="mini"
              id={`less-${p.id}`}
              disabled={!cart[p.id]}
              onClick={() => change(p.id, -1)}
            >
              −
            </Button>
            <Text className="quantity" id={`quantity-${p.id}`}>
              {cart[p.id] ?? 0}
            </Text>
            <Button size="mini" id={`more-${p.id}`} onClick={() => change(p.id, 1)}>
              +
            </Button>
          </View>
        </View>
      ))}
      <View className="bar row">
        <Text className="price" id="total">
          {yuan(totalFen)}
        </Text>
        <Button
          className="primary"
          size="mini"
          id="pay"
          loading={busy}
          disabled={busy || items.length === 0}
          onClick={pay}
        >
          {error && key.current ? 'Try again' : 'Pay'}
        </Button>
      </View>
    </View>
  );
}
