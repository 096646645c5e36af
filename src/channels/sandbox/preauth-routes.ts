/**
 * The sandbox bank's pre-authorization endpoints, a plugin of the bank's Fastify server: it inherits the
 * server's authentication, signed answers, error handling and hang switch. The rules are in bank-preauth.ts;
 * the magic amounts (scenarios.ts) make an operation decline, hang or settle late on purpose.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BankLedger, Settlement } from './bank-ledger.js';
import type { PreauthRequest } from './bank-preauth.js';
import { preauthOperationObject } from './bank-records.js';
import { CompleteCancelRequestBody, FreezeRequestBody, OutOperationNoParams, PreauthOperationObject, preauthPaths, StepRequestBody } from './preauth-protocol.js';
import { ErrorAnswer, type BankErrorCode } from './protocol.js';
import { preauthScenario } from './scenarios.js';

export interface PreauthRouteOptions {
  readonly ledger: BankLedger;
  /** The merchant of an authenticated request. */
  readonly merchantOf: (request: FastifyRequest) => string;
  /** Leaves the request unanswered (the hang scenarios). */
  readonly hang: (request: FastifyRequest, reply: FastifyReply) => void;
  readonly scheduleSettlement: (kind: Settlement['kind'], mchId: string, outNo: string, settleAt: string) => void;
  readonly errorBody: (code: BankErrorCode, message?: string) => ErrorAnswer;
}

export async function preauthRoutes(fastify: FastifyInstance, options: PreauthRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { ledger, merchantOf, hang, scheduleSettlement, errorBody } = options;
  const errors = { '4xx': ErrorAnswer, '5xx': ErrorAnswer };
  const answers = { 200: PreauthOperationObject, ...errors };

  async function operate(request: FastifyRequest, reply: FastifyReply, operation: PreauthRequest) {
    const body = operation.body;
    if (!URL.canParse(body.notify_url)) return reply.code(400).send(errorBody('INVALID_REQUEST', 'notify_url is not valid'));
    if (operation.kind === 'FREEZE' && Number.isNaN(Date.parse(operation.body.expire_at))) {
      return reply.code(400).send(errorBody('INVALID_REQUEST', 'expire_at is not valid'));
    }
    const scenario = preauthScenario(operation.kind, BigInt(body.amount));
    if (scenario.kind === 'server-error') return reply.code(500).send(errorBody('INTERNAL_ERROR', `simulated failure (amount ${body.amount}); nothing was recorded`));
    const mchId = merchantOf(request);
    const outcome = ledger.createPreauthOperation(mchId, operation, scenario, Date.now());
    switch (outcome.kind) {
      case 'conflict':
        return reply.code(409).send(errorBody('DUPLICATE_OUT_OPERATION_NO'));
      case 'full':
        return reply.code(503).send(errorBody('CAPACITY_EXCEEDED'));
      case 'existing':
        return preauthOperationObject(outcome.operation);
      case 'created': {
        const created = outcome.operation;
        if (created.pending) scheduleSettlement('preauth', mchId, created.outOperationNo, created.pending.settleAt);
        if (scenario.kind === 'hang') {
          hang(request, reply);
          return reply;
        }
        return preauthOperationObject(created);
      }
    }
  }

  app.post(preauthPaths.FREEZE, { schema: { body: FreezeRequestBody, response: answers } }, (request, reply) =>
    operate(request, reply, { kind: 'FREEZE', body: request.body }));
  app.post(preauthPaths.UNFREEZE, { schema: { body: StepRequestBody, response: answers } }, (request, reply) =>
    operate(request, reply, { kind: 'UNFREEZE', body: request.body }));
  app.post(preauthPaths.COMPLETE, { schema: { body: StepRequestBody, response: answers } }, (request, reply) =>
    operate(request, reply, { kind: 'COMPLETE', body: request.body }));
  app.post(preauthPaths.COMPLETE_CANCEL, { schema: { body: CompleteCancelRequestBody, response: answers } }, (request, reply) =>
    operate(request, reply, { kind: 'COMPLETE_CANCEL', body: request.body }));

  app.get('/v1/preauth/operations/:out_operation_no', { schema: { params: OutOperationNoParams, response: answers } }, async (request, reply) => {
    const operation = ledger.findPreauthOperation(merchantOf(request), request.params.out_operation_no, Date.now());
    return operation ? preauthOperationObject(operation) : reply.code(404).send(errorBody('NOT_FOUND'));
  });
}
