/** Reconciliation: a day's WeChat bill against the ledger (docs/reconciliation.md). */
import { type Static, Type } from 'typebox';
import { DateTime, FreeForm, filter, Nullable, OneOf, Page, pageQuery, ref } from './common.js';
import { RECONCILIATION_STATUSES } from './statuses.js';

const Flow = () => Type.Object({ count: Type.Integer(), fen: Type.Integer() });

export const ReconciliationTotals = Type.Object({
  bill: Type.Object({
    payments: Type.Object({
      count: Type.Integer(),
      fen: Type.Integer({ description: '订单金额' }),
      settlementFen: Type.Integer({ description: '应结订单金额' }),
    }),
    refunds: Type.Object({
      count: Type.Integer(),
      fen: Type.Integer({ description: '申请退款金额' }),
      refundFen: Type.Integer({ description: '退款金额' }),
    }),
    feeMilliFen: Type.Integer({ description: 'fees less fees given back, 1/1000 fen' }),
    netMilliFen: Type.Integer({ description: 'what WeChat settles for the day, 1/1000 fen' }),
  }),
  ledger: Type.Object({ payments: Flow(), refunds: Flow() }),
  differences: Type.Record(Type.String(), Type.Integer()),
  fundFlow: Nullable(
    Type.Object({
      count: Type.Integer(),
      incomeCount: Type.Integer(),
      incomeFen: Type.Integer(),
      expenseCount: Type.Integer(),
      expenseFen: Type.Integer(),
    }),
  ),
  fundFlowError: Nullable(Type.String({ description: 'why the fund-flow bill was not read' })),
  noBill: Type.Boolean({ description: 'WeChat had no bill for the day (No Bill Exist)' }),
});
export type ReconciliationTotals = Static<typeof ReconciliationTotals>;

export const ReconciliationRun = Type.Object(
  {
    date: Type.String({ description: 'the Beijing day, yyyy-MM-dd' }),
    status: OneOf(RECONCILIATION_STATUSES),
    /** Null until a run of the day finished. */
    totals: Nullable(ReconciliationTotals),
    differences: Type.Integer({ description: 'differences found, repaired ones included' }),
    repaired: Type.Integer(),
    billSha256: Nullable(Type.String()),
    fundFlowSha256: Nullable(Type.String()),
    error: Nullable(Type.String({ description: 'why the last attempt failed or waits' })),
    attempts: Type.Integer(),
    startedAt: DateTime(),
    finishedAt: Nullable(DateTime()),
  },
  { $id: 'ReconciliationRun' },
);
export type ReconciliationRun = Static<typeof ReconciliationRun>;

export const ReconciliationItem = Type.Object(
  {
    id: Type.String(),
    kind: Type.String({ description: 'docs/reconciliation.md, "Kinds of difference"' }),
    key: Type.String({ description: 'out_trade_no of a payment, out_refund_no of a refund' }),
    status: OneOf(['open', 'repaired'] as const),
    orderId: Nullable(Type.String()),
    outTradeNo: Nullable(Type.String()),
    detail: Type.String(),
    bill: Nullable(FreeForm("the bill's row, as matched")),
    ledger: Nullable(FreeForm("the ledger's entry, as matched")),
    createdAt: DateTime(),
  },
  { $id: 'ReconciliationItem' },
);
export type ReconciliationItem = Static<typeof ReconciliationItem>;

export const ReconciliationList = Page('runs', ref(ReconciliationRun));
export type ReconciliationList = Static<typeof ReconciliationList>;

export const ReconciliationListQuery = Type.Object(pageQuery, { additionalProperties: false });
export type ReconciliationListQuery = Static<typeof ReconciliationListQuery>;

export const DateParams = Type.Object({
  date: Type.String({ maxLength: 10, description: 'a Beijing day, yyyy-MM-dd' }),
});
export type DateParams = Static<typeof DateParams>;

export const ReconciliationDayQuery = Type.Object(
  { kind: filter(32, 'only differences of this kind'), ...pageQuery },
  { additionalProperties: false },
);
export type ReconciliationDayQuery = Static<typeof ReconciliationDayQuery>;

/** A day: its run and a page of its differences. */
export const ReconciliationDay = Type.Object({
  run: ref(ReconciliationRun),
  items: Type.Array(ref(ReconciliationItem)),
  nextCursor: Nullable(Type.String()),
});
export type ReconciliationDay = Static<typeof ReconciliationDay>;

export const ReconciliationRunAnswer = Type.Object({ run: ref(ReconciliationRun) });
export type ReconciliationRunAnswer = Static<typeof ReconciliationRunAnswer>;
