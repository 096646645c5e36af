import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Paging } from '../admin/schemas.js';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { toPlainJson } from '../shared/json.js';
import { maskedCardNo } from './cards.js';
import * as repository from './repository.js';
import type { AgreementWithCard, CardRow } from './repository.js';

const statuses = ['SIGNING', 'WAIT_CONFIRM', 'ACTIVE', 'FAILED', 'UNSIGNING', 'TERMINATED'] as const;

/** Cards as operators see them: masked, and without the token (it stands for the number). */
function cardView(card: CardRow) {
  return {
    card_id: card.card_id, app_id: card.app_id, out_user_id: card.out_user_id, card_no: maskedCardNo(card.card_last4), card_last4: card.card_last4,
    bank_code: card.bank_code, bank_name: card.bank_name, card_type: card.card_type, region: card.region, created_at: card.created_at,
  };
}

function agreementView(agreement: AgreementWithCard) {
  return { ...agreement, card_no: maskedCardNo(agreement.card_last4) };
}

/** Operators list agreements and bound cards (masked), and look at one agreement with its withholding usage. */
export async function agreementAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { context } = options;
  const owner = { app_id: Type.Optional(Type.String({ maxLength: 32 })), out_user_id: Type.Optional(Type.String({ maxLength: 64 })) };

  app.get('/agreements', {
    schema: { querystring: Type.Composite([Paging, Type.Object({ ...owner, status: Type.Optional(Type.Union(statuses.map((status) => Type.Literal(status)))) })]) },
  }, async (request) => {
    const { app_id: appId, out_user_id: outUserId, status, limit, offset } = request.query;
    const rows = await repository.listAgreements(context.pool, { appId, outUserId, status }, limit, offset);
    return toPlainJson({ agreements: rows.map(agreementView) });
  });

  app.get('/agreements/:agreement_no', { schema: { params: Type.Object({ agreement_no: Type.String({ maxLength: 64 }) }) } }, async (request) => {
    const agreement = await repository.findAgreementByNo(context.pool, request.params.agreement_no);
    if (!agreement) fail(errors.notFound, `agreement ${request.params.agreement_no} does not exist`);
    const [periods, debits] = await Promise.all([repository.listPeriods(context.pool, agreement.agreement_no), repository.listDebits(context.pool, agreement.agreement_no)]);
    return toPlainJson({ agreement: agreementView(agreement), periods, debits });
  });

  app.get('/cards', { schema: { querystring: Type.Composite([Paging, Type.Object(owner)]) } }, async (request) => {
    const { app_id: appId, out_user_id: outUserId, limit, offset } = request.query;
    const rows = await repository.listCards(context.pool, { appId, outUserId }, limit, offset);
    return toPlainJson({ cards: rows.map(cardView) });
  });
}
