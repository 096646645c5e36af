import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { realNow } from '../clock.js';
import type { Context } from '../context.js';
import type { Logger } from '../logger.js';
import { errors, gatewayCodeMessages, TongbaoError } from '../errors.js';
import { findAppForGateway } from '../merchant/index.js';
import { hmacVerify, rsaVerify, signContent } from '../shared/crypto.js';
import { redactCardData } from '../shared/redact.js';
import type { MethodRegistry } from './methods.js';
import { checkProtocol, responseKey } from './protocol.js';

const maxBodyBytes = 64 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * POST /gateway.do: the one signed merchant API, Alipay OpenAPI v2 compatible.
 * Client mistakes always get HTTP 200 with a signed *_response error body; nothing is changed.
 */
export async function gatewayRoutes(app: FastifyInstance, options: { context: Context; methods: MethodRegistry }): Promise<void> {
  const { context, methods } = options;

  // The gateway reads its own bodies as text: parameters must be decoded exactly once, duplicates
  // must be visible, and a wrong content type is a protocol error, not an HTTP error.
  // Bytes that are not UTF-8 are refused here: decoding them leniently would turn them into U+FFFD and
  // the request would fail later as a bad signature, hiding the real mistake.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) => {
    try {
      done(null, utf8.decode(body as Buffer));
    } catch {
      done(Object.assign(new Error('the body is not valid UTF-8'), { statusCode: 400 }), undefined);
    }
  });

  app.setErrorHandler(async (error, request, reply) => {
    const clientError = (error as { statusCode?: number }).statusCode !== undefined && (error as { statusCode: number }).statusCode < 500;
    if (!clientError) request.log.error({ err: error }, 'gateway failure');
    const definition = clientError ? errors.invalidEncoding : errors.unknownError;
    const detail = clientError ? `the request could not be read: ${(error as Error).message}` : undefined;
    return sendSigned(reply, context, responseKey(undefined), errorBody(new TongbaoError(definition, detail)));
  });

  // Alipay's gateway also takes GET with every parameter in the query string.
  app.route({ method: ['GET', 'POST'], url: '/gateway.do', handler: async (request, reply) => {
    const url = request.raw.url ?? '';
    const queryStart = url.indexOf('?');
    const check = checkProtocol({
      query: queryStart === -1 ? '' : url.slice(queryStart + 1),
      body: typeof request.body === 'string' ? request.body : '',
      contentType: request.headers['content-type'],
      now: realNow(),
      zone: context.config.TONGBAO_TIMEZONE,
      windowSeconds: context.config.TONGBAO_TIMESTAMP_WINDOW_SECONDS,
    });
    if (!check.ok) return replyError(request, reply, context, check.method, check.error);
    const { envelope } = check;
    const key = responseKey(envelope.method);
    const log = request.log.child({ app_id: envelope.appId, method: envelope.method });

    const app = await findAppForGateway(context.pool, envelope.appId, request.ip);
    if (!app) return replyError(request, reply, context, envelope.method, new TongbaoError(errors.invalidAppId, `no app has app_id ${envelope.appId}`));
    if (app.status !== 'NORMAL') return replyError(request, reply, context, envelope.method, new TongbaoError(errors.appFrozen));
    if (app.merchant_status !== 'NORMAL') return replyError(request, reply, context, envelope.method, new TongbaoError(errors.merchantFrozen));
    const method = methods.get(envelope.method);
    if (!method) return replyError(request, reply, context, envelope.method, new TongbaoError(errors.invalidMethod, `no method named ${envelope.method}`));
    if (app.allowed_methods !== null && !app.allowed_methods.includes(method.name)) {
      return replyError(request, reply, context, envelope.method, new TongbaoError(errors.methodNotPermitted, `app ${app.app_id} may not call ${method.name}`));
    }
    if (!app.ip_allowed) return replyError(request, reply, context, envelope.method, new TongbaoError(errors.ipNotAllowed, `caller IP ${request.ip} is not allowed for app ${app.app_id}`));
    if (envelope.signType !== app.sign_type) {
      return replyError(request, reply, context, envelope.method, new TongbaoError(errors.signTypeMismatch, `app ${app.app_id} signs with ${app.sign_type}, the request says ${envelope.signType}`));
    }
    const content = signContent(envelope.params);
    const verified = app.sign_type === 'RSA2'
      ? rsaVerify(content, envelope.sign, app.public_key_pem!)
      : hmacVerify(content, envelope.sign, context.secrets.open(app.secret_sealed!));
    if (!verified) {
      log.warn('gateway signature rejected');
      // The string is echoed to help the caller compare, but card data in it is hidden (never in an answer or a log).
      const shown = redactCardData(content, [envelope.appId]).slice(0, 512);
      return replyError(request, reply, context, envelope.method, new TongbaoError(errors.invalidSignature, `the signature does not verify; the string Tongbao verified is: ${shown}`));
    }

    const invalid = method.validate(envelope.biz);
    if (invalid) return replyError(request, reply, context, envelope.method, invalid);
    try {
      // Domain code logs through the request's logger, so every line carries the request id.
      const requestContext: Context = { ...context, log: log as unknown as Logger };
      const result = await method.handle(requestContext, { app, method: method.name, notifyUrl: envelope.notifyUrl, log }, envelope.biz);
      return sendSigned(reply, context, key, { code: '10000', msg: 'Success', ...result });
    } catch (error) {
      if (error instanceof TongbaoError) return replyError(request, reply, context, envelope.method, error);
      log.error({ err: error }, 'gateway method failed');
      return replyError(request, reply, context, envelope.method, new TongbaoError(errors.unknownError));
    }
  } });
}

function errorBody(error: TongbaoError): Record<string, unknown> {
  const { code, subCode } = error.definition;
  return { code, msg: gatewayCodeMessages[code], sub_code: subCode, sub_msg: error.message };
}

function replyError(request: FastifyRequest, reply: FastifyReply, context: Context, method: string | undefined, error: TongbaoError) {
  request.log.info({ sub_code: error.subCode, sub_msg: error.message }, 'gateway request refused');
  return sendSigned(reply, context, responseKey(method), errorBody(error));
}

/** Writes {"<key>":{...},"sign":"..."} where sign is the platform's RSA2 signature of the inner JSON text. */
async function sendSigned(reply: FastifyReply, context: Context, key: string, body: Record<string, unknown>) {
  const inner = JSON.stringify(body);
  const sign = await context.platformKey.sign(inner);
  return reply.code(200).type('application/json; charset=utf-8').send(`{"${key}":${inner},"sign":"${sign}"}`);
}
