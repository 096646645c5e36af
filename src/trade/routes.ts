import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { listEvents } from '../events/index.js';
import { Paging } from '../admin/schemas.js';
import { toPlainJson } from '../shared/json.js';
import { listSettlements } from './escrow-repository.js';
import * as repository from './repository.js';

/** Operators look up a trade with all its attempts, refunds, settlements and events, and the open discrepancies. */
export async function tradeAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = options;

  app.get('/trades/:trade_no', { schema: { params: Type.Object({ trade_no: Type.String({ maxLength: 64 }) }) } }, async (request) => {
    const trade = await repository.findTradeByNo(context.pool, request.params.trade_no);
    if (!trade) fail(errors.notFound, `trade ${request.params.trade_no} does not exist`);
    const [attempts, refunds, settlements, events] = await Promise.all([
      repository.listAttempts(context.pool, trade.trade_no),
      repository.listRefunds(context.pool, trade.trade_no),
      listSettlements(context.pool, trade.trade_no),
      listEvents(context.pool, 'trade', trade.trade_no),
    ]);
    return toPlainJson({ trade, attempts, refunds, settlements, events });
  });

  app.get('/discrepancies', {
    schema: { querystring: Type.Composite([Paging, Type.Object({ status: Type.Optional(Type.Union([Type.Literal('OPEN'), Type.Literal('RESOLVED')])) })]) },
  }, async (request) => {
    const rows = await repository.listDiscrepancies(context.pool, request.query.status, request.query.limit, request.query.offset);
    return toPlainJson({ discrepancies: rows });
  });
}
