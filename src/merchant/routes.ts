import { isIP } from 'node:net';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { Paging } from '../admin/schemas.js';
import { isHttpUrl } from '../gateway/protocol.js';
import { parseAmount } from '../shared/money.js';
import * as repository from './repository.js';
import { createApp, createMerchant, presentApp, presentMerchant, rotateAppKey, setAppStatus, setMerchantStatus, updateAppSettings, updateMerchantSettings } from './service.js';

const SignTypeSchema = Type.Union([Type.Literal('RSA2'), Type.Literal('HMAC-SHA256')]);
const MethodList = Type.Union([Type.Array(Type.String({ pattern: '^tongbao(\\.[a-z0-9_]+)+$' }), { maxItems: 200 }), Type.Null()]);
const IpList = Type.Union([Type.Array(Type.String({ maxLength: 64 }), { maxItems: 200 }), Type.Null()]);
const NotifyUrl = Type.Union([Type.String({ maxLength: 512 }), Type.Null()]);

function checkNotifyUrl(url: string | null | undefined): void {
  if (url !== undefined && url !== null && !isHttpUrl(url)) fail(errors.adminInvalidInput, 'notify_url must be an http or https URL');
}

/** An IPv4 or IPv6 address, optionally with a prefix length its version allows. */
function isAddressOrBlock(entry: string): boolean {
  const [address = '', prefix, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

function checkIpList(list: string[] | null | undefined): void {
  for (const entry of list ?? []) {
    if (!isAddressOrBlock(entry)) fail(errors.adminInvalidInput, `ip_allowlist entry ${JSON.stringify(entry)} is not an IP address or CIDR block`);
  }
}

function maxAmount(value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  const parsed = parseAmount(value, 'CNY');
  if (!parsed.ok) fail(errors.adminInvalidInput, `max_amount ${parsed.reason}`);
  return parsed.amountMinor;
}

export async function merchantAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = options;

  app.post('/merchants', { schema: { body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false }) } }, async (request, reply) => {
    const merchant = await withTransaction(context.pool, (client) => createMerchant(client, request.body.name));
    return reply.code(201).send(presentMerchant(merchant));
  });

  app.get('/merchants', { schema: { querystring: Paging } }, async (request) => {
    const merchants = await repository.listMerchants(context.pool, request.query.limit, request.query.offset);
    return { merchants: merchants.map(presentMerchant) };
  });

  app.get('/merchants/:merchant_id', { schema: { params: Type.Object({ merchant_id: Type.String({ maxLength: 32 }) }) } }, async (request) => {
    const merchant = await repository.findMerchant(context.pool, request.params.merchant_id);
    if (!merchant) fail(errors.notFound, `merchant ${request.params.merchant_id} does not exist`);
    return presentMerchant(merchant);
  });

  app.patch('/merchants/:merchant_id', {
    schema: {
      params: Type.Object({ merchant_id: Type.String({ maxLength: 32 }) }),
      body: Type.Object({
        // null goes back to the platform default (TONGBAO_ESCROW_CONFIRM_SECONDS)
        escrow_confirm_seconds: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 31622400 }), Type.Null()])),
        // null goes back to the platform default (TONGBAO_REFUND_WINDOW_DAYS); applies to trades paid from now on
        refund_window_days: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 3650 }), Type.Null()])),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const settings = { escrowConfirmSeconds: request.body.escrow_confirm_seconds, refundWindowDays: request.body.refund_window_days };
    const merchant = await withTransaction(context.pool, (client) => updateMerchantSettings(client, request.params.merchant_id, settings));
    return presentMerchant(merchant);
  });

  for (const [action, status] of [['freeze', 'FROZEN'], ['unfreeze', 'NORMAL']] as const) {
    app.post(`/merchants/:merchant_id/${action}`, { schema: { params: Type.Object({ merchant_id: Type.String({ maxLength: 32 }) }) } }, async (request) => {
      const merchant = await withTransaction(context.pool, (client) => setMerchantStatus(client, request.params.merchant_id, status));
      return presentMerchant(merchant);
    });
    app.post(`/apps/:app_id/${action}`, { schema: { params: Type.Object({ app_id: Type.String({ maxLength: 32 }) }) } }, async (request) => {
      const updated = await withTransaction(context.pool, (client) => setAppStatus(client, request.params.app_id, status));
      return presentApp(updated);
    });
  }

  app.post('/apps', {
    schema: {
      body: Type.Object({
        merchant_id: Type.String({ minLength: 1, maxLength: 32 }),
        name: Type.String({ minLength: 1, maxLength: 128 }),
        sign_type: Type.Optional(SignTypeSchema),
        public_key: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
        notify_url: Type.Optional(NotifyUrl),
        allowed_methods: Type.Optional(MethodList),
        ip_allowlist: Type.Optional(IpList),
        max_amount: Type.Optional(Type.String({ maxLength: 32 })),
      }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const body = request.body;
    checkNotifyUrl(body.notify_url);
    checkIpList(body.ip_allowlist);
    const { app: created, issued } = await withTransaction(context.pool, (client) => createApp(client, context.secrets, {
      merchantId: body.merchant_id, name: body.name, signType: body.sign_type, publicKey: body.public_key, notifyUrl: body.notify_url,
      allowedMethods: body.allowed_methods, ipAllowlist: body.ip_allowlist, maxAmountMinor: maxAmount(body.max_amount),
    }));
    return reply.code(201).send({ ...presentApp(created), ...issued, platform_public_key: context.platformKey.publicKeyPem });
  });

  app.get('/apps', { schema: { querystring: Type.Composite([Paging, Type.Object({ merchant_id: Type.Optional(Type.String({ maxLength: 32 })) })]) } }, async (request) => {
    const apps = await repository.listApps(context.pool, request.query.merchant_id, request.query.limit, request.query.offset);
    return { apps: apps.map(presentApp) };
  });

  app.get('/apps/:app_id', { schema: { params: Type.Object({ app_id: Type.String({ maxLength: 32 }) }) } }, async (request) => {
    const found = await repository.findApp(context.pool, request.params.app_id);
    if (!found) fail(errors.notFound, `app ${request.params.app_id} does not exist`);
    return presentApp(found);
  });

  app.patch('/apps/:app_id', {
    schema: {
      params: Type.Object({ app_id: Type.String({ maxLength: 32 }) }),
      body: Type.Object({
        notify_url: Type.Optional(NotifyUrl),
        allowed_methods: Type.Optional(MethodList),
        ip_allowlist: Type.Optional(IpList),
        max_amount: Type.Optional(Type.String({ maxLength: 32 })),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const body = request.body;
    checkNotifyUrl(body.notify_url);
    checkIpList(body.ip_allowlist);
    const settings = { notifyUrl: body.notify_url, allowedMethods: body.allowed_methods, ipAllowlist: body.ip_allowlist, maxAmountMinor: maxAmount(body.max_amount) };
    const updated = await withTransaction(context.pool, (client) => updateAppSettings(client, request.params.app_id, settings));
    return presentApp(updated);
  });

  app.post('/apps/:app_id/rotate-key', {
    schema: {
      params: Type.Object({ app_id: Type.String({ maxLength: 32 }) }),
      body: Type.Object({ sign_type: Type.Optional(SignTypeSchema), public_key: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })) }, { additionalProperties: false }),
    },
    // The body is optional (no body: a new key of the same type), but a schema alone would refuse a missing one.
    preValidation: async (request) => {
      request.body ??= {};
    },
  }, async (request) => {
    const { app: rotated, issued } = await withTransaction(context.pool, (client) =>
      rotateAppKey(client, context.secrets, request.params.app_id, request.body.sign_type, request.body.public_key));
    return { ...presentApp(rotated), ...issued };
  });

  app.get('/platform-key', async () => ({ sign_type: 'RSA2', platform_public_key: context.platformKey.publicKeyPem }));
}
