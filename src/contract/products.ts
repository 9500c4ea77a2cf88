/** The catalogue (docs/http-api.md "Product"): the only source of prices. */
import { type Static, Type } from 'typebox';
import { Nullable, ref } from './common.js';

/** Highest price of one product: ¥100,000 (WeChat's per-payment limits are lower anyway). */
export const MAX_PRICE_FEN = 10_000_000;

export const Product = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    priceFen: Type.Integer(),
    imageUrl: Nullable(Type.String()),
    active: Type.Boolean(),
    /** null: unlimited. */
    stock: Nullable(Type.Integer()),
    /** Delivered virtually (a code, a membership): its orders are reported shipped at PAID. */
    virtual: Type.Boolean(),
  },
  { $id: 'Product' },
);
export type Product = Static<typeof Product>;

const productFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  description: Type.String({ maxLength: 1000 }),
  priceFen: Type.Integer({ minimum: 1, maximum: MAX_PRICE_FEN }),
  imageUrl: Nullable(Type.String({ maxLength: 2000 })),
  active: Type.Boolean(),
  stock: Nullable(Type.Integer({ minimum: 0 })),
  virtual: Type.Boolean(),
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
    virtual: Type.Optional(productFields.virtual),
  },
  { additionalProperties: false },
);
export type ProductCreate = Static<typeof ProductCreate>;

export const ProductPatch = Type.Partial(Type.Object(productFields), {
  additionalProperties: false,
  minProperties: 1,
});
export type ProductPatch = Static<typeof ProductPatch>;

export const ProductIdParams = Type.Object({
  id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
});
export type ProductIdParams = Static<typeof ProductIdParams>;

export const ProductList = Type.Object({ products: Type.Array(ref(Product)) });
export type ProductList = Static<typeof ProductList>;

export const ProductAnswer = Type.Object({ product: ref(Product) });
export type ProductAnswer = Static<typeof ProductAnswer>;
