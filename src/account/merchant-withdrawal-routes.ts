/**
 * Admin API for merchants' withdrawals (bearer token, under /admin): the list with filters, and one
 * withdrawal with what the channel said. Read-only: a withdrawal is finished by the channel's answer or the
 * compensation queries, never by hand.
 */
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Paging } from '../admin/schemas.js';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { findMerchantWithdrawalByNo, listMerchantWithdrawals, merchantWithdrawalFields, type MerchantWithdrawalRow } from './merchant-withdrawals.js';

const isoInstant = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})$';

function present(context: Context, row: MerchantWithdrawalRow) {
  return {
    ...merchantWithdrawalFields(context, row),
    app_id: row.app_id, payee_name: row.payee_name, remark: row.remark, channel_ref: row.channel_ref, query_count: row.query_count,
    business_date: row.business_date, created_at: row.created_at.toISOString(), finished_at: row.finished_at?.toISOString() ?? null,
  };
}

export async function merchantWithdrawalAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = options;

  app.get('/merchant-withdrawals', {
    schema: {
      querystring: Type.Object({
        merchant_id: Type.Optional(Type.String({ maxLength: 64 })),
        app_id: Type.Optional(Type.String({ maxLength: 32 })),
        status: Type.Optional(Type.Union([Type.Literal('PROCESSING'), Type.Literal('SUCCESS'), Type.Literal('FAILED')])),
        from: Type.Optional(Type.String({ pattern: isoInstant, description: 'ISO 8601 instant, inclusive' })),
        to: Type.Optional(Type.String({ pattern: isoInstant, description: 'ISO 8601 instant, exclusive' })),
        ...Paging.properties,
      }),
    },
  }, async (request) => {
    const query = request.query;
    const rows = await listMerchantWithdrawals(context.pool, {
      merchantId: query.merchant_id, appId: query.app_id, status: query.status,
      from: query.from === undefined ? undefined : new Date(query.from), to: query.to === undefined ? undefined : new Date(query.to),
      limit: query.limit, offset: query.offset,
    });
    return { withdrawals: rows.map((row) => present(context, row)) };
  });

  app.get('/merchant-withdrawals/:withdraw_no', { schema: { params: Type.Object({ withdraw_no: Type.String({ maxLength: 64 }) }) } }, async (request) => {
    const row = await findMerchantWithdrawalByNo(context.pool, request.params.withdraw_no);
    if (!row) fail(errors.notFound, `no merchant withdrawal ${request.params.withdraw_no}`);
    return present(context, row);
  });
}
