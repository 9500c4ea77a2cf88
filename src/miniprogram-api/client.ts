/**
 * The mini program server APIs minipay calls after a payment: shipping information, subscribe
 * messages and the user's phone number. Every call takes its access_token from a
 * `TokenSource` (the `TokenManager`), which retries it once with a new token when WeChat
 * refuses the old one. Requests are checked against WeChat's documented rules before they
 * are sent (shipping.ts, subscribe-message.ts); errors are `MiniProgramApiError`.
 *
 * Nothing here retries on its own: the app's jobs retry `retryable` errors. A call whose
 * answer was lost may have been acted on: before uploading shipping info again, read
 * `getOrder` (another upload of a completed shipment spends its one re-shipment); a subscribe
 * message sent twice may reach the user twice, or meet 43101 when it allowed one message.
 */
import type { AccessToken } from './access-token.js';
import { MiniProgramApiError } from './errors.js';
import { invalidAnswer, type JsonObject, Transport, type TransportOptions } from './http.js';
import {
  type OrderKey,
  type OrderListPage,
  type OrderListQuery,
  orderListBody,
  parseOrderListPage,
  parseShippingOrder,
  type ShippingOrder,
  shippingBodyProblem,
  shippingInfoBody,
  tradeLookup,
  type UploadShippingInfoRequest,
} from './shipping.js';
import {
  SUBSCRIBE_REFUSALS,
  type SubscribeMessage,
  type SubscribeSendResult,
  subscribeBody,
  subscribeBodyProblem,
} from './subscribe-message.js';
import type { TokenSource } from './token-manager.js';
import { checkPhoneCode, PHONE_NUMBER_PATH, type PhoneInfo, parsePhoneInfo } from './user.js';

export interface MiniProgramClientOptions extends TransportOptions {
  appId: string;
  tokens: TokenSource;
}

export interface Courier {
  /** `express_company` of `upload_shipping_info`, e.g. `SF`. */
  id: string;
  name: string;
}

const PATHS = {
  upload: '/wxa/sec/order/upload_shipping_info',
  deliveryList: '/cgi-bin/express/delivery/open_msg/get_delivery_list',
  isTradeManaged: '/wxa/sec/order/is_trade_managed',
  getOrder: '/wxa/sec/order/get_order',
  getOrderList: '/wxa/sec/order/get_order_list',
  notifyConfirmReceive: '/wxa/sec/order/notify_confirm_receive',
  subscribeSend: '/cgi-bin/message/subscribe/send',
} as const;

/** The courier list is WeChat's largest answer (about 1,400 couriers). */
const DELIVERY_LIST_MAX_BYTES = 2 * 1024 * 1024;

export class MiniProgramClient {
  readonly appId: string;
  private readonly transport: Transport;
  private readonly tokens: TokenSource;

  constructor(options: MiniProgramClientOptions) {
    this.appId = options.appId;
    this.transport = new Transport(options);
    this.tokens = options.tokens;
  }

  /**
   * 发货信息录入. `unchanged` is true when WeChat already had exactly this info (10060023).
   * Changing the info of a completed shipment, or its modes, is the one re-shipment WeChat
   * allows (10060003 after it).
   */
  async uploadShippingInfo(request: UploadShippingInfoRequest): Promise<{ unchanged: boolean }> {
    const body = shippingInfoBody(request);
    const problem = shippingBodyProblem(body);
    if (problem) {
      throw new MiniProgramApiError(
        'rejected',
        'INVALID_REQUEST',
        `${PATHS.upload}: ${problem.message} (WeChat would answer errcode ${problem.errcode})`,
      );
    }
    try {
      await this.call(PATHS.upload, body);
      return { unchanged: false };
    } catch (err) {
      if (err instanceof MiniProgramApiError && err.errcode === 10060023)
        return { unchanged: true };
      throw err;
    }
  }

  /** The couriers WeChat knows, for `expressCompany`. */
  async getDeliveryList(): Promise<Courier[]> {
    const json = await this.call(PATHS.deliveryList, {}, DELIVERY_LIST_MAX_BYTES);
    const list = json.delivery_list;
    if (!Array.isArray(list)) throw invalidAnswer(PATHS.deliveryList, 'delivery_list is missing');
    return list.map((entry) => {
      const { delivery_id: id, delivery_name: name } = (entry ?? {}) as JsonObject;
      if (typeof id !== 'string' || id === '' || typeof name !== 'string') {
        throw invalidAnswer(PATHS.deliveryList, 'a courier lacks delivery_id or delivery_name');
      }
      return { id, name };
    });
  }

  /** Whether the mini program is under the shipping-information regime. */
  async isTradeManaged(): Promise<boolean> {
    const json = await this.call(PATHS.isTradeManaged, { appid: this.appId });
    if (typeof json.is_trade_managed !== 'boolean') {
      throw invalidAnswer(PATHS.isTradeManaged, 'is_trade_managed is not a boolean');
    }
    return json.is_trade_managed;
  }

  /** WeChat's view of an order's shipping state. */
  async getOrder(order: OrderKey): Promise<ShippingOrder> {
    const json = await this.call(PATHS.getOrder, tradeLookup(order));
    return parseShippingOrder(json, PATHS.getOrder);
  }

  /**
   * One page of WeChat's paid orders (查询订单列表), by pay time, state and payer; pass the
   * answer's `lastIndex` back while `hasMore`.
   */
  async getOrderList(query: OrderListQuery = {}): Promise<OrderListPage> {
    const json = await this.call(PATHS.getOrderList, orderListBody(query));
    return parseOrderListPage(json, PATHS.getOrderList);
  }

  /** Reminds the user to confirm receipt (express orders, once per order). */
  async notifyConfirmReceive(order: OrderKey, receivedAt: Date): Promise<void> {
    const seconds = Math.floor(receivedAt.getTime() / 1000);
    if (!Number.isSafeInteger(seconds) || seconds <= 0) {
      throw new RangeError('receivedAt must be a valid time');
    }
    await this.call(PATHS.notifyConfirmReceive, { ...tradeLookup(order), received_time: seconds });
  }

  /**
   * Sends a subscribe message. A refusal of the message or by the user (43101, 47003, 40037,
   * 40003, 41030) is a result to record, not an error; transport, token and setup failures
   * throw.
   */
  async sendSubscribeMessage(message: SubscribeMessage): Promise<SubscribeSendResult> {
    const body = subscribeBody(message);
    const problem = subscribeBodyProblem(body);
    if (problem) {
      const refusal = SUBSCRIBE_REFUSALS[problem.errcode] ?? 'bad-data';
      return { sent: false, refusal, message: problem.message };
    }
    try {
      await this.call(PATHS.subscribeSend, body);
      return { sent: true };
    } catch (err) {
      const refusal = err instanceof MiniProgramApiError && SUBSCRIBE_REFUSALS[err.errcode ?? 0];
      if (!refusal) throw err;
      return { sent: false, refusal, errcode: err.errcode, message: err.message };
    }
  }

  /**
   * The phone number behind a `getPhoneNumber` code. With `openid`, WeChat also checks the code
   * was given by that user.
   */
  async getUserPhoneNumber(code: string, openid?: string): Promise<PhoneInfo> {
    checkPhoneCode(code);
    const json = await this.call(PHONE_NUMBER_PATH, openid ? { code, openid } : { code });
    return parsePhoneInfo(json, this.appId);
  }

  private call(path: string, body: unknown, maxBytes?: number): Promise<JsonObject> {
    return this.tokens.withToken((token: AccessToken) =>
      this.transport.post({ path, body, accessToken: token.value, maxBytes }),
    );
  }
}
