/**
 * The sandbox bank's agreement endpoints, a plugin of the bank's Fastify server: it inherits the server's
 * authentication, signed answers, error handling and hang switch. The rules are in bank-agreements.ts.
 * GET /sandbox/sms/:mobile is the sandbox's stand-in for the payer's phone: it lists the codes the bank
 * "texted" to a number. It exists only in the sandbox and is the one endpoint that needs no signature.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { luhnValid } from '../../agreement/cards.js';
import { AgreementObject, agreementPaths, ConfirmRequestBody, OutAgreementNoParams, SignRequestBody } from './agreement-protocol.js';
import { agreementObject, type BankAgreements } from './bank-agreements.js';
import { ErrorAnswer, type BankErrorCode } from './protocol.js';

export const smsOutboxPath = '/sandbox/sms/';

export interface AgreementRouteOptions {
  readonly agreements: BankAgreements;
  readonly merchantOf: (request: import('fastify').FastifyRequest) => string;
  readonly errorBody: (code: BankErrorCode, message?: string) => ErrorAnswer;
}

export async function agreementRoutes(fastify: FastifyInstance, options: AgreementRouteOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { agreements, merchantOf, errorBody } = options;
  const answers = { 200: AgreementObject, '4xx': ErrorAnswer, '5xx': ErrorAnswer };

  app.post(agreementPaths.sign, { schema: { body: SignRequestBody, response: answers } }, async (request, reply) => {
    const body = request.body;
    if (!luhnValid(body.card_no)) return reply.code(400).send(errorBody('INVALID_REQUEST', 'card_no fails the Luhn check'));
    if (body.card_type === 'CREDIT' && (body.expiry === undefined || body.cvv === undefined)) {
      return reply.code(400).send(errorBody('INVALID_REQUEST', 'a credit card needs expiry and cvv'));
    }
    const outcome = agreements.sign(merchantOf(request), body, Date.now());
    switch (outcome.kind) {
      case 'conflict':
        return reply.code(409).send(errorBody('DUPLICATE_OUT_AGREEMENT_NO'));
      case 'full':
        return reply.code(503).send(errorBody('CAPACITY_EXCEEDED'));
      default:
        return agreementObject(outcome.agreement);
    }
  });

  app.post('/v1/agreements/:out_agreement_no/confirm', { schema: { params: OutAgreementNoParams, body: ConfirmRequestBody, response: answers } }, async (request, reply) => {
    const confirmed = agreements.confirm(merchantOf(request), request.params.out_agreement_no, request.body.code, Date.now());
    return confirmed ? agreementObject(confirmed.agreement, confirmed.wrongCode) : reply.code(404).send(errorBody('NOT_FOUND'));
  });

  app.post('/v1/agreements/:out_agreement_no/terminate', { schema: { params: OutAgreementNoParams, response: answers } }, async (request, reply) => {
    const agreement = agreements.terminate(merchantOf(request), request.params.out_agreement_no, Date.now());
    return agreement ? agreementObject(agreement) : reply.code(404).send(errorBody('NOT_FOUND'));
  });

  app.get('/v1/agreements/:out_agreement_no', { schema: { params: OutAgreementNoParams, response: answers } }, async (request, reply) => {
    const agreement = agreements.find(merchantOf(request), request.params.out_agreement_no);
    return agreement ? agreementObject(agreement) : reply.code(404).send(errorBody('NOT_FOUND'));
  });

  app.get(`${smsOutboxPath}:mobile`, { schema: { params: Type.Object({ mobile: Type.String({ pattern: '^[0-9]{6,15}$' }) }) } }, async (request) => ({
    messages: agreements.sentCodes(request.params.mobile).map((sent) => ({ out_agreement_no: sent.outAgreementNo, code: sent.code, sent_at: sent.sentAt })),
  }));
}
