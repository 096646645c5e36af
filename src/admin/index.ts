import { accountAdminRoutes } from '../account/index.js';
import { localPayAdminRoutes } from '../localpay/index.js';
import { timingSafeEqual, createHash } from 'node:crypto';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';
import { errors } from '../errors.js';
import { agreementAdminRoutes } from '../agreement/routes.js';
import { merchantAdminRoutes } from '../merchant/routes.js';
import { notifyAdminRoutes } from '../notify/routes.js';
import { ledgerAdminRoutes } from '../ledger/routes.js';
import { channelAdminRoutes } from '../channels/routes.js';
import { routingAdminRoutes } from '../routing/routes.js';
import { testClockAdminRoutes } from '../testclock/routes.js';
import { tradeAdminRoutes } from '../trade/routes.js';
import type { Notifier } from '../notify/index.js';

// Fastify's default validator coerces types (coerceTypes: 'array'). The querystring and params need that
// (limit=50 arrives as text), but JSON bodies must be taken as sent: coerced, a null meant to clear a
// setting became "" or [null] and was refused, [""] became null ("allow every IP"), and 42 became "42".
const validatorOptions = { useDefaults: true, removeAdditional: false, allErrors: false } as const;
const coercingValidator = new Ajv({ ...validatorOptions, coerceTypes: 'array' });
const exactValidator = new Ajv({ ...validatorOptions, coerceTypes: false });

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** /admin: operator API, behind a bearer token from configuration (compared in constant time). */
export async function adminRoutes(app: FastifyInstance, options: { context: Context; adminToken: string; notifier: Notifier }): Promise<void> {
  const expected = digest(options.adminToken);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? exactValidator : coercingValidator).compile(schema));
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : '';
    if (!token || !timingSafeEqual(digest(token), expected)) {
      return reply.code(401).send({ code: errors.unauthorized.subCode, message: errors.unauthorized.message });
    }
  });
  await app.register(merchantAdminRoutes, { context: options.context });
  await app.register(accountAdminRoutes, { context: options.context });
  await app.register(localPayAdminRoutes, { context: options.context });
  await app.register(notifyAdminRoutes, { context: options.context, notifier: options.notifier });
  await app.register(ledgerAdminRoutes, { context: options.context });
  await app.register(tradeAdminRoutes, { context: options.context });
  await app.register(testClockAdminRoutes, { context: options.context });
  await app.register(channelAdminRoutes, { context: options.context });
  await app.register(routingAdminRoutes, { context: options.context });
  await app.register(agreementAdminRoutes, { context: options.context });
}
