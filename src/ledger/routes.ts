import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';
import { toPlainJson } from '../shared/json.js';
import { checkLedger } from './index.js';

/** GET /admin/ledger/check: the same verification as `tongbao ledger check`. */
export async function ledgerAdminRoutes(app: FastifyInstance, options: { context: Context }): Promise<void> {
  app.get('/ledger/check', async () => toPlainJson(await checkLedger(options.context.pool)));
}
