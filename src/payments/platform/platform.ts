/**
 * The port to WeChat's mini program platform (api.weixin.qq.com): what the domain asks of it
 * after a payment (shipping, subscribe messages) and of the user (the phone number). `MiniProgramClient` of `minipay/miniprogram-api` is the adapter; tests
 * point it at the sandbox. Errors are `MiniProgramApiError`, whose `kind` says whether to retry.
 */
import type {
  Courier,
  OrderKey,
  OrderListPage,
  OrderListQuery,
  PhoneInfo,
  ShippingOrder,
  SubscribeMessage,
  SubscribeSendResult,
  UploadShippingInfoRequest,
} from '../../miniprogram-api/index.js';

export interface MiniProgramPlatform {
  uploadShippingInfo(request: UploadShippingInfoRequest): Promise<{ unchanged: boolean }>;
  getOrder(order: OrderKey): Promise<ShippingOrder>;
  getOrderList(query: OrderListQuery): Promise<OrderListPage>;
  isTradeManaged(): Promise<boolean>;
  getDeliveryList(): Promise<Courier[]>;
  notifyConfirmReceive(order: OrderKey, receivedAt: Date): Promise<void>;
  /** A refusal (43101, 47003, ...) is a result; transport, token and setup failures throw. */
  sendSubscribeMessage(message: SubscribeMessage): Promise<SubscribeSendResult>;
  getUserPhoneNumber(code: string, openid?: string): Promise<PhoneInfo>;
}
