import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Context } from './context.js';
import { accountMethods } from './account/index.js';
import { localPayMethods } from './localpay/index.js';
import { adminRoutes } from './admin/index.js';
import { agreementMethods } from './agreement/index.js';
import { errors, TongbaoError } from './errors.js';
import { gatewayRoutes } from './gateway/routes.js';
import { MethodRegistry } from './gateway/methods.js';
import type { Notifier } from './notify/index.js';
import { preauthMethods, recordPreauthCallback } from './preauth/index.js';
import { channelCallbackRoutes, tradeMethods } from './trade/index.js';

export function gatewayMethods(): MethodRegistry {
  return new MethodRegistry([...tradeMethods, ...preauthMethods, ...accountMethods, ...agreementMethods, ...localPayMethods]);
}

/** The HTTP side of Tongbao: gateway, channel callbacks, admin API, health. */
export async function buildApp(context: Context, options: { adminToken: string; notifier: Notifier }): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: context.log as FastifyBaseLogger,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    bodyLimit: 256 * 1024,
    // Behind a reverse proxy, the caller IP (for app IP allowlists) comes from X-Forwarded-For only when trusted.
    trustProxy: context.config.TONGBAO_TRUST_PROXY,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });

  // Admin and other JSON routes: registered codes become their HTTP status; bad input is 400; the rest 500.
  app.setErrorHandler(async (error, request, reply) => {
    if (error instanceof TongbaoError) {
      return reply.code(error.definition.httpStatus).send({ code: error.subCode, message: error.message });
    }
    const statusCode = (error as { statusCode?: number }).statusCode;
    const pgCode = (error as { code?: string }).code;
    if ((error as { validation?: unknown }).validation || (statusCode !== undefined && statusCode < 500)) {
      return reply.code(statusCode && statusCode !== 500 ? statusCode : 400).send({ code: errors.adminInvalidInput.subCode, message: (error as Error).message });
    }
    if (pgCode?.startsWith('22')) {
      return reply.code(400).send({ code: errors.adminInvalidInput.subCode, message: (error as Error).message });
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ code: errors.unknownError.subCode, message: errors.unknownError.message });
  });

  app.get('/health', async () => {
    await context.pool.query('select 1');
    return { status: 'ok' };
  });
  await app.register(gatewayRoutes, { context, methods: gatewayMethods() });
  await app.register(channelCallbackRoutes, { context, operationHandlers: [recordPreauthCallback] });
  await app.register(adminRoutes, { prefix: '/admin', context, adminToken: options.adminToken, notifier: options.notifier });
  return app;
}
