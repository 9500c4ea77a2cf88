/** The product catalogue: the only source of prices. */

import type { Selectable } from 'kysely';
import { MAX_PRICE_FEN, type Product } from '../../contract/index.js';
import type { ProductsTable } from '../../store/schema.js';
import type { PaymentsContext } from '../context.js';
import { DomainError, notFound, validation } from '../lib/errors.js';
import { newId } from '../lib/ids.js';

export interface ProductInput {
  id?: string;
  name?: string;
  description?: string;
  priceFen?: number;
  imageUrl?: string | null;
  active?: boolean;
  stock?: number | null;
  virtual?: boolean;
}

const PRODUCT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function productView(p: Selectable<ProductsTable>): Product {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    priceFen: p.price_fen,
    imageUrl: p.image_url,
    active: p.active === 1,
    stock: p.stock,
    virtual: p.virtual === 1,
  };
}

export class Catalogue {
  constructor(private readonly ctx: PaymentsContext) {}

  async list(includeInactive = false): Promise<Product[]> {
    let q = this.ctx.db.selectFrom('products').selectAll();
    if (!includeInactive) q = q.where('active', '=', 1);
    const rows = await q.orderBy('created_at').orderBy('id').execute();
    return rows.map(productView);
  }

  async create(input: ProductInput): Promise<Product> {
    checkProduct(input, true);
    const id = input.id ?? newId('prd');
    if (!PRODUCT_ID.test(id)) throw validation('id must be 1-64 letters, digits, "_" or "-"');
    const iso = this.ctx.clock().toISOString();
    const inserted = await this.ctx.db
      .insertInto('products')
      .values({
        id,
        name: input.name!,
        description: input.description ?? '',
        price_fen: input.priceFen!,
        image_url: input.imageUrl ?? null,
        active: input.active === false ? 0 : 1,
        stock: input.stock ?? null,
        virtual: input.virtual ? 1 : 0,
        created_at: iso,
        updated_at: iso,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) {
      throw new DomainError(
        409,
        'PRODUCT_EXISTS',
        `a product with id "${id}" exists; PATCH it instead`,
      );
    }
    return this.get(id);
  }

  async update(id: string, input: ProductInput): Promise<Product> {
    checkProduct(input, false);
    const set = {
      ...(input.name !== undefined && { name: input.name }),
      ...(input.description !== undefined && { description: input.description }),
      ...(input.priceFen !== undefined && { price_fen: input.priceFen }),
      ...(input.imageUrl !== undefined && { image_url: input.imageUrl }),
      ...(input.active !== undefined && { active: input.active ? 1 : 0 }),
      ...(input.stock !== undefined && { stock: input.stock }),
      ...(input.virtual !== undefined && { virtual: input.virtual ? 1 : 0 }),
      updated_at: this.ctx.clock().toISOString(),
    };
    const r = await this.ctx.db
      .updateTable('products')
      .set(set)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) throw notFound('product');
    return this.get(id);
  }

  async get(id: string): Promise<Product> {
    const row = await this.ctx.db
      .selectFrom('products')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw notFound('product');
    return productView(row);
  }

  /** Inserts products that do not exist yet (demo seeding); existing ones are left alone. */
  async seed(products: ProductInput[]): Promise<void> {
    for (const p of products) {
      const exists = await this.ctx.db
        .selectFrom('products')
        .select('id')
        .where('id', '=', p.id!)
        .executeTakeFirst();
      if (!exists) await this.create(p);
    }
  }
}

function checkProduct(p: ProductInput, creating: boolean): void {
  if (creating && (p.name === undefined || p.priceFen === undefined)) {
    throw validation('a product needs at least name and priceFen');
  }
  if (p.name !== undefined && (p.name.trim() === '' || p.name.length > 100)) {
    throw validation('name must be 1-100 characters');
  }
  if (p.description !== undefined && p.description.length > 1000) {
    throw validation('description must be at most 1000 characters');
  }
  if (
    p.priceFen !== undefined &&
    !(Number.isSafeInteger(p.priceFen) && p.priceFen >= 1 && p.priceFen <= MAX_PRICE_FEN)
  ) {
    throw validation(`priceFen must be a whole number of fen from 1 to ${MAX_PRICE_FEN}`);
  }
  if (
    p.stock !== undefined &&
    p.stock !== null &&
    !(Number.isSafeInteger(p.stock) && p.stock >= 0)
  ) {
    throw validation('stock must be a whole number ≥ 0, or null for unlimited');
  }
  if (p.imageUrl && !/^https?:\/\/\S{1,2000}$/.test(p.imageUrl)) {
    throw validation('imageUrl must be an http(s) URL');
  }
}
