/**
 * Admin API of local payments (bearer token, under /admin): pay-password status and reset, opening a credit
 * account, the apps' password-free maxima, and credit bills with their overdue sweep.
 */
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { formatUnits } from '../account/index.js';
import { Paging } from '../admin/schemas.js';
import type { Context } from '../context.js';
import { formatAmount } from '../shared/money.js';
import * as creditRepository from './credit-repository.js';
import { businessDate, markOverdueBills } from './credit.js';
import { billFields } from './methods.js';
import * as repository from './repository.js';
import { openCreditAccount, resetPayPassword, setAppNoPasswordLimits } from './settings.js';

const Reason = Type.String({ minLength: 1, maxLength: 256 });
const Amount = Type.String({ minLength: 1, maxLength: 32 });
const userParams = Type.Object({ user_id: Type.String({ maxLength: 64 }) });

function presentLimit(row: repository.AppNoPasswordLimitRow) {
  return { app_id: row.app_id, currency: row.currency, max_single: formatAmount(row.max_single_minor, row.currency), max_daily: formatAmount(row.max_daily_minor, row.currency) };
}

export async function localPayAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = options;

  app.get('/users/:user_id/pay-password', { schema: { params: userParams } }, async (request) => {
    const row = await repository.findPayPassword(context.pool, request.params.user_id);
    return { user_id: request.params.user_id, set: row !== undefined, failed_count: row?.failed_count ?? 0, locked_until: row?.locked_until?.toISOString() ?? null };
  });

  app.post('/users/:user_id/pay-password/reset', {
    schema: { params: userParams, body: Type.Object({ pay_password: Type.String({ minLength: 1, maxLength: 32 }), reason: Reason }, { additionalProperties: false }) },
  }, async (request) => {
    await resetPayPassword(context, request.params.user_id, request.body.pay_password, request.body.reason);
    return { user_id: request.params.user_id, set: true, failed_count: 0, locked_until: null };
  });

  app.post('/users/:user_id/credit-account', {
    schema: { params: userParams, body: Type.Object({ currency: Type.String({ pattern: '^[A-Z]{3}$' }), credit_limit: Amount, reason: Reason }, { additionalProperties: false }) },
  }, async (request) => {
    const account = await openCreditAccount(context, request.params.user_id, request.body.currency, request.body.credit_limit, request.body.reason);
    return {
      account_no: account.accountNo, user_id: account.userId, type: account.type, currency: account.currency, status: account.status,
      credit_limit: formatUnits(account.creditLimitMinor ?? 0n, account.currency), available: formatUnits(account.availableMinor, account.currency),
    };
  });

  app.get('/apps/:app_id/nopassword-limits', { schema: { params: Type.Object({ app_id: Type.String({ maxLength: 32 }) }) } }, async (request) =>
    ({ limits: (await repository.listAppNoPasswordLimits(context.pool, request.params.app_id)).map(presentLimit) }));

  app.put('/apps/:app_id/nopassword-limits/:currency', {
    schema: {
      params: Type.Object({ app_id: Type.String({ maxLength: 32 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) }),
      body: Type.Object({ max_single: Amount, max_daily: Amount }, { additionalProperties: false }),
    },
  }, async (request) => presentLimit(await setAppNoPasswordLimits(context, request.params.app_id, request.params.currency, request.body.max_single, request.body.max_daily)));

  app.get('/credit-bills', {
    schema: {
      querystring: Type.Object({
        app_id: Type.Optional(Type.String({ maxLength: 32 })),
        user_id: Type.Optional(Type.String({ maxLength: 64 })),
        status: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('OVERDUE'), Type.Literal('PAID')])),
        due_before: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD: bills due before this business date' })),
        ...Paging.properties,
      }),
    },
  }, async (request) => {
    const { limit, offset, app_id: appId, user_id: userId, status, due_before: dueBefore } = request.query;
    const bills = await creditRepository.listBills(context.pool, { appId, userId, status, dueBefore }, limit, offset);
    return { business_date: businessDate(context), bills: bills.map((bill) => ({ ...billFields(bill), app_id: bill.app_id, account_no: bill.account_no })) };
  });

  // The sweep runs every minute and after a test clock advance; operators may run it at once.
  app.post('/credit-bills/overdue-sweep', async () => ({ business_date: businessDate(context), marked_overdue: await markOverdueBills(context) }));
}
