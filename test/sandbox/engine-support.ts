/**
 * A sandbox engine without HTTP, for unit tests of what it decides (bill rows, notification
 * content). Trades are made and paid through the same handlers the HTTP paths use.
 */

import type { TestContext } from 'node:test';
import { SandboxClock } from '../../src/sandbox/clock.js';
import { FaultSwitch, type SandboxCore } from '../../src/sandbox/core.js';
import { resolveCredentials } from '../../src/sandbox/credentials.js';
import { SandboxEngine } from '../../src/sandbox/engine.js';
import { SandboxState } from '../../src/sandbox/state/sandbox-state.js';
import { unifiedOrder } from '../../src/sandbox/trades.js';
import { V3Platform } from '../../src/sandbox/v3-platform.js';
import { nonce, signV2 } from '../../src/wechatpay/index.js';

/** v3 key material, made once for every engine of a test file (RSA keys take a while). */
const v3 = await V3Platform.load(new SandboxState(), resolveCredentials(), {}, Date.now());

/** An engine whose clock reads `now` until moved with `at`; closed when the test ends. */
export function engineFor(t: TestContext, now: number) {
  let real = now;
  const state = new SandboxState();
  const core: SandboxCore = {
    state,
    clock: new SandboxClock(0, () => real),
    credentials: resolveCredentials(),
    config: {
      timeScale: 1,
      closeMinAgeMs: 0,
      refundIntervalMs: 0,
      notifyTimeoutMs: 5000,
      refundNotifyUrl: undefined,
    },
    faults: new FaultSwitch(state, { seed: 1, refundDelayMs: 0 }),
    v3,
  };
  const engine = new SandboxEngine(core, undefined);
  t.after(async () => {
    await engine.close();
    state.close();
  });
  return {
    core,
    engine,
    /** Sets sandbox time (real time of the fake clock). */
    at(ms: number) {
      real = ms;
    },
    /** Orders and pays `outTradeNo` now; returns the trade row. */
    pay(outTradeNo: string, totalFee: number, extra: Record<string, string> = {}) {
      const answer = unifiedOrder(core, {
        signType: 'MD5',
        fields: Object.assign(Object.create(null), {
          appid: core.credentials.appId,
          mch_id: core.credentials.mchId,
          body: '商品',
          out_trade_no: outTradeNo,
          total_fee: String(totalFee),
          spbill_create_ip: '127.0.0.1',
          notify_url: 'http://127.0.0.1:9/n',
          trade_type: 'JSAPI',
          openid: 'oBillUser',
          ...extra,
        }),
      });
      if (answer.type !== 'ok') throw new Error('unexpected');
      const params = {
        appId: core.credentials.appId,
        timeStamp: '1700000000',
        nonceStr: nonce(),
        package: `prepay_id=${answer.fields.prepay_id}`,
        signType: 'MD5',
      };
      engine.pay({
        ...params,
        paySign: signV2(params, core.credentials.mchKey),
        openid: 'oBillUser',
      });
      return core.state.trades.get(core.credentials.mchId, outTradeNo)!;
    },
    /** Refunds now (settles at once: refundDelayMs 0). */
    refund(outTradeNo: string, outRefundNo: string, refundFee: number) {
      const trade = core.state.trades.get(core.credentials.mchId, outTradeNo)!;
      engine.refunds.create({
        trade,
        outRefundNo,
        totalFee: trade.total_fee,
        refundFee,
        source: 'API',
      });
      engine.refunds.settleDue();
      return core.state.refunds.get(core.credentials.mchId, outRefundNo)!;
    },
  };
}
