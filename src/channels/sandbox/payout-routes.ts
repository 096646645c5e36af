/**
 * The sandbox bank's payout endpoints, a plugin of the bank's Fastify server like preauth-routes.ts: it
 * inherits authentication, signed answers and the hang switch. Magic amounts in scenarios.ts.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BankLedger } from './bank-ledger.js';
import { payoutObject } from './bank-payouts.js';
import { OutPayoutNoParams, PayoutObject, payoutPath, PayoutRequestBody } from './payout-protocol.js';
import { ErrorAnswer, type BankErrorCode } from './protocol.js';
import { payoutScenario } from './scenarios.js';

export interface PayoutRouteOptions {
  readonly ledger: BankLedger;
  readonly merchantOf: (request: FastifyRequest) => string;
  readonly hang: (request: FastifyRequest, reply: FastifyReply) => void;
  readonly errorBody: (code: BankErrorCode, message?: string) => ErrorAnswer;
}

export async function payoutRoutes(fastify: FastifyInstance, options: PayoutRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { ledger, merchantOf, hang, errorBody } = options;
  const answers = { 200: PayoutObject, '4xx': ErrorAnswer, '5xx': ErrorAnswer };

  app.post(payoutPath, { schema: { body: PayoutRequestBody, response: answers } }, async (request, reply) => {
    const scenario = payoutScenario(BigInt(request.body.amount));
    if (scenario.kind === 'server-error') return reply.code(500).send(errorBody('INTERNAL_ERROR', `simulated failure (amount ${request.body.amount}); nothing was recorded`));
    const outcome = ledger.createPayout(merchantOf(request), request.body, scenario, Date.now());
    switch (outcome.kind) {
      case 'conflict':
        return reply.code(409).send(errorBody('DUPLICATE_OUT_PAYOUT_NO'));
      case 'full':
        return reply.code(503).send(errorBody('CAPACITY_EXCEEDED'));
      case 'existing':
        return payoutObject(outcome.payout);
      case 'created':
        if (scenario.kind === 'hang') {
          hang(request, reply);
          return reply;
        }
        return payoutObject(outcome.payout);
    }
  });

  app.get(`${payoutPath}/:out_payout_no`, { schema: { params: OutPayoutNoParams, response: answers } }, async (request, reply) => {
    const payout = ledger.findPayout(merchantOf(request), request.params.out_payout_no, Date.now());
    return payout ? payoutObject(payout) : reply.code(404).send(errorBody('NOT_FOUND'));
  });
}
