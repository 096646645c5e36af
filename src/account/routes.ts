/**
 * Admin API for users and accounts (bearer token, under /admin): look-ups, statements (流水), status changes,
 * amount freezes, real-name information, coin units and credit limits. Every change carries a reason and
 * leaves an audit record (GET .../audit).
 */
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { Paging } from '../admin/schemas.js';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { toPlainJson as toJson } from '../shared/json.js';
import { merchantWithdrawalAdminRoutes } from './merchant-withdrawal-routes.js';
import { defineCoinUnit, freezeAmount, setCreditLimit, setRealName, setStatus, setUserStatus, verifyRealName } from './operations.js';
import * as repository from './repository.js';
import type { UserRow } from './repository.js';
import { formatUnits } from './units.js';
import { withBalances, type UserAccount } from './users.js';

const isoInstant = '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,6})?)?(Z|[+-]\\d{2}:\\d{2})$';
const Status = Type.Union([Type.Literal('NORMAL'), Type.Literal('FROZEN'), Type.Literal('BLACKLISTED')]);
const Reason = Type.String({ minLength: 1, maxLength: 256 });
const IdType = Type.Union(['ID_CARD', 'PASSPORT', 'HK_MACAO_PERMIT', 'TAIWAN_PERMIT', 'BUSINESS_LICENSE'].map((value) => Type.Literal(value)));
const RealName = Type.Object({ real_name: Type.String({ minLength: 1, maxLength: 64 }), id_type: IdType, id_number: Type.String({ minLength: 1, maxLength: 32 }), reason: Reason }, { additionalProperties: false });

function presentUser(user: UserRow) {
  return {
    user_id: user.user_id, app_id: user.app_id, out_user_id: user.out_user_id, status: user.status,
    real_name: user.real_name_masked, id_type: user.id_type, id_number: user.id_number_masked, verified_at: user.verified_at?.toISOString() ?? null,
    created_at: user.created_at.toISOString(),
  };
}

function presentAccount(account: UserAccount) {
  return {
    account_no: account.accountNo, user_id: account.userId, app_id: account.appId, type: account.type, currency: account.currency, coin_unit: account.coinUnit,
    status: account.status, available: formatUnits(account.availableMinor, account.currency), frozen: formatUnits(account.frozenMinor, account.currency),
    credit_limit: account.creditLimitMinor === null ? null : formatUnits(account.creditLimitMinor, account.currency),
  };
}

export async function accountAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = options;
  await fastify.register(merchantWithdrawalAdminRoutes, { context });
  const userParams = Type.Object({ user_id: Type.String({ maxLength: 64 }) });
  const accountParams = Type.Object({ account_no: Type.String({ maxLength: 64 }) });

  async function requireAccount(accountNo: string): Promise<UserAccount> {
    const row = await repository.findUserAccountByNo(context.pool, accountNo);
    if (!row) fail(errors.notFound, `no account ${accountNo}`);
    return withBalances(context.pool, row, false);
  }

  app.get('/users', { schema: { querystring: Type.Object({ app_id: Type.Optional(Type.String({ maxLength: 32 })), ...Paging.properties }) } }, async (request) => {
    const users = await repository.listUsers(context.pool, { appId: request.query.app_id, limit: request.query.limit, offset: request.query.offset });
    return { users: users.map(presentUser) };
  });

  app.get('/users/:user_id', { schema: { params: userParams } }, async (request) => {
    const user = await repository.findUserById(context.pool, request.params.user_id);
    if (!user) fail(errors.notFound, `no user ${request.params.user_id}`);
    const accounts = await Promise.all((await repository.listUserAccounts(context.pool, user.user_id)).map((row) => withBalances(context.pool, row, false)));
    return { ...presentUser(user), accounts: accounts.map(presentAccount) };
  });

  app.put('/users/:user_id/status', { schema: { params: userParams, body: Type.Object({ status: Status, reason: Reason }, { additionalProperties: false }) } }, async (request) =>
    presentUser(await setUserStatus(context, request.params.user_id, request.body.status, request.body.reason)));

  app.put('/users/:user_id/real-name', { schema: { params: userParams, body: RealName } }, async (request) => {
    const { reason, ...input } = request.body;
    return presentUser(await setRealName(context, 'USER', request.params.user_id, input as Parameters<typeof setRealName>[3], reason) as UserRow);
  });

  app.post('/users/:user_id/real-name/verify', { schema: { params: userParams, body: Type.Object({ reason: Reason }, { additionalProperties: false }) } }, async (request) =>
    presentUser(await verifyRealName(context, 'USER', request.params.user_id, request.body.reason) as UserRow));

  app.get('/users/:user_id/audit', { schema: { params: userParams } }, async (request) =>
    ({ audit: toJson(await repository.listAudit(context.pool, 'USER', request.params.user_id)) }));

  app.put('/merchants/:merchant_id/real-name', { schema: { params: Type.Object({ merchant_id: Type.String({ maxLength: 64 }) }), body: RealName } }, async (request) => {
    const { reason, ...input } = request.body;
    return toJson(await setRealName(context, 'MERCHANT', request.params.merchant_id, input as Parameters<typeof setRealName>[3], reason));
  });

  app.post('/merchants/:merchant_id/real-name/verify', { schema: { params: Type.Object({ merchant_id: Type.String({ maxLength: 64 }) }), body: Type.Object({ reason: Reason }, { additionalProperties: false }) } }, async (request) =>
    toJson(await verifyRealName(context, 'MERCHANT', request.params.merchant_id, request.body.reason)));

  app.get('/accounts/:account_no', { schema: { params: accountParams } }, async (request) => presentAccount(await requireAccount(request.params.account_no)));

  app.put('/accounts/:account_no/status', { schema: { params: accountParams, body: Type.Object({ status: Status, reason: Reason }, { additionalProperties: false }) } }, async (request) =>
    presentAccount(await setStatus(context, request.params.account_no, request.body.status, request.body.reason)));

  const AmountBody = Type.Object({ amount: Type.String({ minLength: 1, maxLength: 32 }), reason: Reason }, { additionalProperties: false });
  app.post('/accounts/:account_no/freeze', { schema: { params: accountParams, body: AmountBody } }, async (request) =>
    presentAccount(await freezeAmount(context, request.params.account_no, 'FREEZE', request.body.amount, request.body.reason)));
  app.post('/accounts/:account_no/unfreeze', { schema: { params: accountParams, body: AmountBody } }, async (request) =>
    presentAccount(await freezeAmount(context, request.params.account_no, 'UNFREEZE', request.body.amount, request.body.reason)));

  app.put('/accounts/:account_no/credit-limit', { schema: { params: accountParams, body: Type.Object({ credit_limit: Type.String({ minLength: 1, maxLength: 32 }), reason: Reason }, { additionalProperties: false }) } }, async (request) =>
    presentAccount(await setCreditLimit(context, request.params.account_no, request.body.credit_limit, request.body.reason)));

  app.get('/accounts/:account_no/audit', { schema: { params: accountParams } }, async (request) =>
    ({ audit: toJson(await repository.listAudit(context.pool, 'ACCOUNT', request.params.account_no)) }));

  app.get('/accounts/:account_no/statement', {
    schema: {
      params: accountParams,
      querystring: Type.Object({
        from: Type.Optional(Type.String({ pattern: isoInstant, description: 'ISO 8601 instant, inclusive' })),
        to: Type.Optional(Type.String({ pattern: isoInstant, description: 'ISO 8601 instant, exclusive' })),
        kind: Type.Optional(Type.String({ maxLength: 64 })), direction: Type.Optional(Type.Union([Type.Literal('IN'), Type.Literal('OUT')])),
        part: Type.Optional(Type.Union([Type.Literal('AVAILABLE'), Type.Literal('FROZEN')], { default: 'AVAILABLE' })),
        ...Paging.properties,
      }),
    },
  }, async (request) => {
    const account = await requireAccount(request.params.account_no);
    const query = request.query;
    const lines = await repository.listStatement(context.pool, query.part === 'FROZEN' ? account.frozenAccountId : account.availableAccountId, {
      from: query.from === undefined ? undefined : new Date(query.from), to: query.to === undefined ? undefined : new Date(query.to),
      kind: query.kind, direction: query.direction, limit: query.limit, offset: query.offset,
    });
    return {
      account_no: account.accountNo,
      lines: lines.map((line) => ({ ...toJson(line) as object, amount: formatUnits(line.amount_minor, account.currency) })),
    };
  });

  app.put('/apps/:app_id/coin-units/:code', {
    schema: {
      params: Type.Object({ app_id: Type.String({ maxLength: 32 }), code: Type.String({ pattern: '^[A-Z][A-Z0-9_]{0,15}$' }) }),
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }), coins_per_unit: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, { additionalProperties: false }),
    },
  }, async (request) => toJson(await defineCoinUnit(context, request.params.app_id, { code: request.params.code, ...request.body })));
}
