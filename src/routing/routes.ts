import { Type, type Static } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { listConfigs } from '../channels/configs.js';
import type { Context } from '../context.js';
import { withTransaction, type Queryable } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import * as repository from './repository.js';
import type { ChannelRouteRow } from './repository.js';

/** Minor units as a decimal integer string: routes are not tied to one currency, so no decimal point. */
const minorUnits = (description: string) => Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$', description });
const nullableMinor = (description: string) => Type.Union([minorUnits(description), Type.Null()]);

const RouteBody = Type.Object({
  channel: Type.String({ minLength: 1, maxLength: 32 }),
  merchant_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Null()])),
  app_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 32 }), Type.Null()])),
  enabled: Type.Boolean(),
  products: Type.Optional(Type.Union([Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 32, uniqueItems: true }), Type.Null()])),
  fee_rate_basis_points: Type.Optional(Type.Integer({ minimum: 0, maximum: 10000, description: '60 = 0.6%' })),
  fee_fixed_minor: Type.Optional(minorUnits('a fixed fee per payment, in minor units of the trade currency')),
  single_limit_minor: Type.Optional(nullableMinor('largest single payment; null for none')),
  daily_limit_minor: Type.Optional(nullableMinor('most per day (Tongbao timezone) per merchant, or per app for an app row; null for none')),
  weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
}, { additionalProperties: false });

const Weights = Type.Object({
  fee: Type.Integer({ minimum: 0, maximum: 100 }),
  success_rate: Type.Integer({ minimum: 0, maximum: 100 }),
  latency: Type.Integer({ minimum: 0, maximum: 100 }),
  weight: Type.Integer({ minimum: 0, maximum: 100 }),
  preference: Type.Integer({ minimum: 0, maximum: 100 }),
}, { additionalProperties: false });

function presentRoute(row: ChannelRouteRow) {
  return {
    route_id: row.route_id.toString(),
    channel: row.channel,
    merchant_id: row.merchant_id,
    app_id: row.app_id,
    enabled: row.enabled,
    products: row.products,
    fee_rate_basis_points: row.fee_rate_basis_points,
    fee_fixed_minor: row.fee_fixed_minor.toString(),
    single_limit_minor: row.single_limit_minor?.toString() ?? null,
    daily_limit_minor: row.daily_limit_minor?.toString() ?? null,
    weight: row.weight,
    updated_at: row.updated_at,
  };
}

const positive = (value: string | null | undefined, field: string): bigint | null => {
  if (value === undefined || value === null) return null;
  if (BigInt(value) === 0n) fail(errors.adminInvalidInput, `${field} must be above 0, or null for no limit`);
  return BigInt(value);
};

/** The channel must be one Tongbao knows, the scope must exist, and the products must be the channel's. */
async function checkRoute(context: Context, client: Queryable, body: Static<typeof RouteBody>): Promise<void> {
  const stored = (await listConfigs(client)).map((row) => row.channel);
  if (!context.channels.get(body.channel) && !stored.includes(body.channel)) {
    fail(errors.adminInvalidInput, `no channel ${body.channel}; known: ${[...new Set([...context.channels.names(), ...stored])].sort().join(', ')}`);
  }
  if (body.app_id && !body.merchant_id) fail(errors.adminInvalidInput, 'an app row needs the merchant_id the app belongs to');
  if (body.app_id) {
    const { rows } = await client.query<{ merchant_id: string }>('select merchant_id from apps where app_id = $1', [body.app_id]);
    if (rows[0]?.merchant_id !== body.merchant_id) fail(errors.adminInvalidInput, `no app ${body.app_id} of merchant ${body.merchant_id}`);
  } else if (body.merchant_id && !(await client.query('select 1 from merchants where merchant_id = $1', [body.merchant_id])).rowCount) {
    fail(errors.adminInvalidInput, `no merchant ${body.merchant_id}`);
  }
  const products = context.channels.get(body.channel)?.capabilities.products;
  const unknown = products ? (body.products ?? []).filter((product) => !products.includes(product)) : [];
  if (unknown.length > 0) fail(errors.adminInvalidInput, `channel ${body.channel} has no product ${unknown.join(', ')}; it has ${products!.join(', ')}`);
}

/**
 * The router's data (支付路由), changed without a restart: every payment reads it.
 * GET/PUT /admin/routing/routes, DELETE /admin/routing/routes/:route_id: how each channel is offered to the
 * platform, a merchant or one app (fees, limits, products, weight, on or off).
 * GET/PUT /admin/routing/weights: how much each scored factor counts.
 */
export async function routingAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = options;

  app.get('/routing/routes', {
    schema: { querystring: Type.Object({ channel: Type.Optional(Type.String({ maxLength: 32 })), merchant_id: Type.Optional(Type.String({ maxLength: 32 })) }) },
  }, async (request) => {
    const rows = await repository.listRoutes(context.pool, { channel: request.query.channel, merchantId: request.query.merchant_id });
    return { routes: rows.map(presentRoute) };
  });

  app.put('/routing/routes', { schema: { body: RouteBody } }, async (request) => {
    const body = request.body;
    const row = await withTransaction(context.pool, async (client) => {
      await checkRoute(context, client, body);
      return repository.upsertRoute(client, {
        channel: body.channel,
        merchant_id: body.merchant_id ?? null,
        app_id: body.app_id ?? null,
        enabled: body.enabled,
        products: body.products ?? null,
        fee_rate_basis_points: body.fee_rate_basis_points ?? 0,
        fee_fixed_minor: BigInt(body.fee_fixed_minor ?? '0'),
        single_limit_minor: positive(body.single_limit_minor, 'single_limit_minor'),
        daily_limit_minor: positive(body.daily_limit_minor, 'daily_limit_minor'),
        weight: body.weight ?? 50,
      });
    });
    request.log.warn({ route_id: row.route_id.toString(), channel: row.channel, merchant_id: row.merchant_id, app_id: row.app_id }, 'channel route changed by an operator');
    return presentRoute(row);
  });

  app.delete('/routing/routes/:route_id', { schema: { params: Type.Object({ route_id: Type.String({ pattern: '^[1-9][0-9]{0,17}$' }) }) } }, async (request, reply) => {
    if (!(await repository.deleteRoute(context.pool, BigInt(request.params.route_id)))) fail(errors.notFound, `no route ${request.params.route_id}`);
    return reply.code(204).send();
  });

  app.get('/routing/weights', async () => {
    const weights = await repository.readWeights(context.pool);
    return { fee: weights.fee, success_rate: weights.successRate, latency: weights.latency, weight: weights.weight, preference: weights.preference };
  });

  app.put('/routing/weights', { schema: { body: Weights } }, async (request) => {
    const body = request.body;
    if (body.fee + body.success_rate + body.latency + body.weight + body.preference === 0) fail(errors.adminInvalidInput, 'at least one weight must be above 0');
    await repository.writeWeights(context.pool, { fee: body.fee, successRate: body.success_rate, latency: body.latency, weight: body.weight, preference: body.preference });
    request.log.warn({ weights: body }, 'routing weights changed by an operator');
    return body;
  });
}
