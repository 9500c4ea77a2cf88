/** TypeBox schemas for the HTTP API (docs/http-api.md); they validate and feed /openapi.json. */
import { Type } from '@fastify/type-provider-typebox';
import { MAX_PRICE_FEN } from '../payments/catalogue/catalogue.js';
import { ORDER_STATUSES } from '../payments/orders/order-states.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) =>
  Type.Union([t, Type.Null()]);

export const ErrorBody = Type.Object(
  { error: Type.Object({ code: Type.String(), message: Type.String() }) },
  { $id: 'Error' },
);

export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
  413: Type.Ref('Error'),
  415: Type.Ref('Error'),
  422: Type.Ref('Error'),
  500: Type.Ref('Error'),
  502: Type.Ref('Error'),
};

export const Product = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    priceFen: Type.Integer(),
    imageUrl: Nullable(Type.String()),
    active: Type.Boolean(),
    stock: Nullable(Type.Integer()),
  },
  { $id: 'Product' },
);

const OrderItem = Type.Object({
  productId: Type.String(),
  name: Type.String(),
  unitPriceFen: Type.Integer(),
  quantity: Type.Integer(),
  amountFen: Type.Integer(),
});

const orderFields = {
  id: Type.String(),
  outTradeNo: Type.String(),
  status: Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s))),
  description: Type.String(),
  totalFen: Type.Integer(),
  currency: Type.String(),
  items: Type.Array(OrderItem),
  attach: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  paidAt: Nullable(Type.String({ format: 'date-time' })),
  closedAt: Nullable(Type.String({ format: 'date-time' })),
  transactionId: Nullable(Type.String()),
  refundedFen: Type.Integer(),
  failure: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
};

export const Order = Type.Object(orderFields, { $id: 'Order' });

export const AdminOrder = Type.Object(
  {
    ...orderFields,
    openid: Type.String(),
    userId: Type.String(),
    refundRequired: Type.Boolean(),
    closeReason: Nullable(Type.String()),
  },
  { $id: 'AdminOrder' },
);

export const PaymentParams = Type.Object(
  {
    appId: Type.String(),
    timeStamp: Type.String(),
    nonceStr: Type.String(),
    package: Type.String(),
    signType: Type.String(),
    paySign: Type.String(),
  },
  { $id: 'PaymentParams' },
);

export const LoginBody = Type.Object(
  { code: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

export const LoginAnswer = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  user: Type.Object({ id: Type.String() }),
});

export const LogoutAnswer = Type.Object({ ok: Type.Boolean() });

/** Prices a client sends are accepted and ignored (docs/http-api.md): they are listed here. */
const ignoredPrice = { description: 'ignored: prices come from the catalogue' };

export const CheckoutBody = Type.Object(
  {
    items: Type.Array(
      Type.Object(
        {
          productId: Type.String({ minLength: 1, maxLength: 64 }),
          quantity: Type.Integer({ minimum: 1, maximum: 99 }),
          priceFen: Type.Optional(Type.Unknown(ignoredPrice)),
          unitPriceFen: Type.Optional(Type.Unknown(ignoredPrice)),
          amountFen: Type.Optional(Type.Unknown(ignoredPrice)),
          name: Type.Optional(Type.Unknown({ description: 'ignored' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20 },
    ),
    attach: Type.Optional(Nullable(Type.String({ maxLength: 127 }))),
    totalFen: Type.Optional(Type.Unknown(ignoredPrice)),
  },
  { additionalProperties: false },
);

export const CheckoutAnswer = Type.Object({
  order: Type.Ref('Order'),
  payment: Nullable(Type.Ref('PaymentParams')),
});

export const OrderAnswer = Type.Object({ order: Type.Ref('Order') });

export const PaymentAnswer = Type.Object({
  order: Type.Ref('Order'),
  payment: Type.Ref('PaymentParams'),
});

export const OrderIdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const OrderQuery = Type.Object(
  {
    sync: Type.Optional(
      Type.Union([
        Type.Literal('0'),
        Type.Literal('1'),
        Type.Literal('true'),
        Type.Literal('false'),
      ]),
    ),
  },
  { additionalProperties: false },
);

export const OrderList = Type.Object({
  orders: Type.Array(Type.Ref('Order')),
  nextCursor: Nullable(Type.String()),
});

const productFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.String({ maxLength: 1000 }),
  priceFen: Type.Integer({ minimum: 1, maximum: MAX_PRICE_FEN }),
  imageUrl: Nullable(Type.String({ maxLength: 2000 })),
  active: Type.Boolean(),
  stock: Nullable(Type.Integer({ minimum: 0 })),
};

export const ProductCreate = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
    name: productFields.name,
    priceFen: productFields.priceFen,
    description: Type.Optional(productFields.description),
    imageUrl: Type.Optional(productFields.imageUrl),
    active: Type.Optional(productFields.active),
    stock: Type.Optional(productFields.stock),
  },
  { additionalProperties: false },
);

export const ProductPatch = Type.Partial(Type.Object(productFields), {
  additionalProperties: false,
  minProperties: 1,
});

export const ProductList = Type.Object({ products: Type.Array(Type.Ref('Product')) });
export const ProductAnswer = Type.Object({ product: Type.Ref('Product') });

export const Refund = Type.Object(
  {
    id: Type.String(),
    orderId: Type.String(),
    outRefundNo: Type.String(),
    refundId: Nullable(Type.String()),
    amountFen: Type.Integer(),
    reason: Nullable(Type.String()),
    status: Type.Union(
      ['PENDING', 'PROCESSING', 'SUCCESS', 'CHANGE', 'REFUNDCLOSE', 'FAILED'].map((s) =>
        Type.Literal(s),
      ),
    ),
    source: Type.Union([Type.Literal('minipay'), Type.Literal('merchant_portal')]),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
    succeededAt: Nullable(Type.String({ format: 'date-time' })),
    failure: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    retry: Nullable(
      Type.Object(
        {
          code: Type.String(),
          message: Type.String(),
          attempts: Type.Integer(),
          nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
        },
        {
          description:
            'why a PENDING refund waits (WeChat refused it for now) and when it is sent again',
        },
      ),
    ),
  },
  { $id: 'Refund' },
);

export const Anomaly = Type.Object(
  {
    id: Type.String(),
    kind: Type.String(),
    orderId: Nullable(Type.String()),
    outTradeNo: Nullable(Type.String()),
    detail: Type.Unknown({ description: 'what was seen (free-form JSON, no secrets)' }),
    status: Type.Union([Type.Literal('open'), Type.Literal('resolved')]),
    createdAt: Type.String({ format: 'date-time' }),
    resolvedAt: Nullable(Type.String({ format: 'date-time' })),
    resolution: Nullable(Type.String()),
  },
  { $id: 'Anomaly' },
);

export const RefundBody = Type.Object(
  {
    amountFen: Type.Integer({ minimum: 1, maximum: 10_000_000_000 }),
    reason: Type.Optional(
      Nullable(Type.String({ maxLength: 80, description: 'at most 80 bytes of UTF-8' })),
    ),
  },
  { additionalProperties: false },
);

export const RefundAnswer = Type.Object({
  refund: Type.Ref('Refund'),
  order: Type.Ref('AdminOrder'),
});

export const RefundOnly = Type.Object({ refund: Type.Ref('Refund') });

export const RefundListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 100 })),
    orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const RefundList = Type.Object({
  refunds: Type.Array(Type.Ref('Refund')),
  nextCursor: Nullable(Type.String()),
});

export const Delivery = Type.Object(
  {
    id: Type.String(),
    eventId: Type.String(),
    eventType: Type.String(),
    url: Type.String(),
    status: Type.Union(['pending', 'delivered', 'failed', 'dead'].map((s) => Type.Literal(s))),
    attempts: Type.Integer(),
    lastAttemptAt: Nullable(Type.String({ format: 'date-time' })),
    nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
    lastStatusCode: Nullable(Type.Integer()),
    lastError: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Delivery' },
);

export const DeliveryListQuery = Type.Object(
  {
    status: Type.Optional(Type.String({ maxLength: 100 })),
    eventId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const DeliveryList = Type.Object({
  deliveries: Type.Array(Type.Ref('Delivery')),
  nextCursor: Nullable(Type.String()),
});

export const DeliveryAnswer = Type.Object({ delivery: Type.Ref('Delivery') });
