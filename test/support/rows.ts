/**
 * Whole rows for tests and benchmarks that write tables directly (constraint tests, seeding):
 * every column, with what a new order or user has, so that each caller states only what it
 * is about.
 */
import type { OrdersTable, UsersTable } from '../../src/store/index.js';

/** A CREATED order of 1 fen, made at `at`, with `fields` on top. */
export function orderRow(
  at: string,
  fields: Pick<OrdersTable, 'id' | 'out_trade_no' | 'user_id' | 'openid'> & Partial<OrdersTable>,
): OrdersTable {
  return {
    status: 'CREATED',
    description: 'd',
    total_fen: 1,
    currency: 'CNY',
    attach: null,
    payer_ip: '127.0.0.1',
    prepay_id: null,
    prepay_expires_at: null,
    transaction_id: null,
    paid_at: null,
    closed_at: null,
    refunded_fen: 0,
    failure_code: null,
    failure_message: null,
    refund_required: 0,
    query_attempts: 0,
    next_query_at: null,
    close_reason: null,
    wechatpay_api: 'v2',
    expires_at: at,
    version: 0,
    created_at: at,
    updated_at: at,
    ...fields,
  };
}

/** A user known by `openid` only, made at `at`. */
export function userRow(at: string, id: string, openid: string): UsersTable {
  return { id, openid, unionid: null, session_key: null, created_at: at, updated_at: at };
}
