// One order as the server has it, and what can be done next: pay again, check again, cancel.
// The page never decides an order is paid by itself: only the server's answer says so.
import { Button, Text, View } from '@tarojs/components';
import Taro, { useLoad, useRouter } from '@tarojs/taro';
import { type Order, type PayResult, resultOf } from 'minipay/client';
import { useState } from 'react';
import { errorText, statusText, yuan } from '../../format';
import { minipay } from '../../minipay';

type Outcome = PayResult['status'] | 'open';

const HEADLINES: Record<Outcome, string> = {
  paid: 'Payment received',
  cancelled: 'Payment cancelled',
  failed: 'Payment failed',
  pending: 'Waiting for WeChat to confirm the payment',
  open: 'Awaiting payment',
};

function outcomeOf(order: Order, given?: string): Outcome {
  if (given && given in HEADLINES) return given as Outcome;
  return order.status === 'PENDING' ? 'open' : resultOf(order).status;
}

export default function OrderPage() {
  const { params } = useRouter();
  const [order, setOrder] = useState<Order | null>(null);
  const [outcome, setOutcome] = useState<Outcome>('open');
  const [message, setMessage] = useState(decodeURIComponent(params.message ?? ''));
  const [busy, setBusy] = useState(false);

  const show = (result: PayResult) => {
    setOrder(result.order);
    setOutcome(result.status);
    setMessage(result.error?.message ?? '');
  };

  /** Runs one action at a time; its failure is shown, the order stays as it was. */
  const act = async (work: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setMessage('');
    try {
      await work();
    } catch (err) {
      setMessage(errorText(err));
    }
    setBusy(false);
  };

  useLoad(() =>
    act(async () => {
      const loaded = await minipay.order(decodeURIComponent(params.id ?? ''));
      setOrder(loaded);
      setOutcome(outcomeOf(loaded, params.outcome));
      setMessage(decodeURIComponent(params.message ?? ''));
    }),
  );

  const cancel = async () => {
    const res = await Taro.showModal({
      title: 'Cancel this order?',
      content: 'It cannot be paid afterwards.',
      // At most 4 Chinese or 8 Latin characters, or WeChat shows no modal at all.
      confirmText: 'Cancel',
      cancelText: 'Keep',
    });
    if (!res.confirm || !order) return;
    await act(async () => {
      const closed = await minipay.cancel(order);
      setOrder(closed);
      setOutcome(outcomeOf(closed));
    });
  };

  if (!order) {
    return <View className="muted center">{message || 'Loading…'}</View>;
  }
  const payable = order.status === 'PENDING';
  return (
    <View>
      <View className="card">
        <View className="headline" id="headline">
          {order.status === 'CLOSED' || order.status === 'CLOSING'
            ? 'Order cancelled'
            : HEADLINES[outcome]}
        </View>
        {message && (
          <View className="muted" id="message">
            {message}
          </View>
        )}
      </View>
      <View className="card">
        <View className="row">
          <Text className="muted">Status</Text>
          <Text id="status">{statusText(order.status)}</Text>
        </View>
        <View className="row">
          <Text className="muted">Amount</Text>
          <Text className="price" id="amount">
            {yuan(order.totalFen)}
          </Text>
        </View>
        {order.items.map((item) => (
          <View key={item.productId} className="row">
            <Text>
              {item.name} × {item.quantity}
            </Text>
            <Text>{yuan(item.amountFen)}</Text>
          </View>
        ))}
        <View className="row">
          <Text className="muted">Order no.</Text>
          <Text id="out-trade-no">{order.outTradeNo}</Text>
        </View>
      </View>
      <View className="card">
        {payable && (
          <Button
            className="primary"
            id="pay-again"
            disabled={busy}
            onClick={() => act(async () => show(await minipay.pay(order)))}
          >
            Pay now
          </Button>
        )}
        {outcome === 'pending' && (
          <Button
            id="check"
            disabled={busy}
            onClick={() => act(async () => show(await minipay.confirm(order)))}
          >
            Check again
          </Button>
        )}
        {payable && (
          <Button id="cancel" disabled={busy} onClick={cancel}>
            Cancel order
          </Button>
        )}
        <Button id="shop" onClick={() => Taro.reLaunch({ url: '/pages/shop/index' })}>
          Back to the shop
        </Button>
      </View>
    </View>
  );
}
