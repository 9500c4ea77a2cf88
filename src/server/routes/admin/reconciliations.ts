/**
 * Admin reconciliation (docs/reconciliation.md, docs/http-api.md): the runs, a day with its
 * differences, a run now, a day's differences as CSV.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import {
  DateParams,
  ReconciliationDay,
  ReconciliationDayQuery,
  ReconciliationList,
  ReconciliationListQuery,
  ReconciliationRunAnswer,
} from '../../../contract/index.js';
import type { ServerOptions } from '../../options.js';
import { adminRoute } from './schema.js';

const CsvQuery = Type.Object(
  { kind: Type.Optional(Type.String({ maxLength: 32, description: 'only this kind' })) },
  { additionalProperties: false },
);

export const adminReconciliationRoutes: FastifyPluginAsyncTypebox<ServerOptions> = async (
  app,
  options,
) => {
  const reports = options.payments.reconciliationReports;

  app.get(
    '/reconciliations',
    {
      schema: adminRoute({
        summary: 'the reconciled days, newest first',
        querystring: ReconciliationListQuery,
        response: { 200: ReconciliationList },
      }),
    },
    async (request) => reports.list(request.query),
  );

  app.get(
    '/reconciliations/:date',
    {
      schema: adminRoute({
        summary: "a day's totals and differences",
        params: DateParams,
        querystring: ReconciliationDayQuery,
        response: { 200: ReconciliationDay },
      }),
    },
    async (request) => reports.day(request.params.date, request.query),
  );

  app.post(
    '/reconciliations/:date/run',
    {
      schema: adminRoute({
        summary: "reconcile a day now (WeChat's bill against the ledger)",
        params: DateParams,
        response: { 200: ReconciliationRunAnswer },
      }),
    },
    async (request) => ({ run: await reports.runNow(request.params.date) }),
  );

  app.get(
    '/reconciliations/:date/differences.csv',
    {
      schema: adminRoute({
        summary: "a day's differences as CSV",
        params: DateParams,
        querystring: CsvQuery,
        response: { 200: Type.String({ description: 'text/csv, a header line first' }) },
      }),
    },
    async (request, reply) => {
      const { date } = request.params;
      const lines = await reports.csv(date, request.query.kind);
      return (
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="reconciliation-${date}.csv"`)
          // Streamed, a page of rows at a time; the schema's string documents the text it makes.
          .send(Readable.from(lines) as unknown as string)
      );
    },
  );
};
