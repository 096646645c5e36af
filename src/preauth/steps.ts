import { now } from '../clock.js';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import { errors, fail } from '../errors.js';
import { recordEvents } from '../events/index.js';
import type { GatewayAppRow } from '../merchant/index.js';
import { parseAmount } from '../shared/money.js';
import { lockCapturedTrade, reserveCapturedTradeReversal } from '../trade/index.js';
import type { OperationState } from './outcomes.js';
import { scheduleFirstQuery, sendToChannel, type StepOutcome } from './pipeline.js';
import * as repository from './repository.js';
import type { AuthLookup, AuthRow } from './repository.js';
import { replayOf, stepRefusal, type StepKind, type StepRequest } from './rules.js';

/** A step with its request number: the caller's out_request_no, or expiry=<try> for the expiry's release. */
type NumberedStep = StepRequest & { readonly outRequestNo: string };

export interface StepInput {
  auth_no?: string | undefined;
  out_order_no?: string | undefined;
  out_request_no: string;
  amount: string | number;
  currency?: string | undefined;
}

export async function findAuthOrFail(context: Context, app: GatewayAppRow, lookup: AuthLookup): Promise<AuthRow> {
  if (lookup.authNo === undefined && lookup.outOrderNo === undefined) fail(errors.missingParameter, 'auth_no or out_order_no is required');
  const auth = await repository.findAuth(context.pool, app.app_id, lookup);
  if (!auth) fail(errors.preauthNotExist, `no pre-authorization ${lookup.authNo ?? lookup.outOrderNo} for this app`);
  return auth;
}

/**
 * tongbao.preauth.unfreeze, .complete and .complete.cancel. Checks, in order: the hold exists; the currency is
 * the hold's; the amount parses; a repeated out_request_no returns its operation (or is refused when it asked
 * something else), before any status check so a retry always gets the first answer; then the hold's state.
 * Nothing is written before all of them pass.
 */
export async function runMerchantStep(context: Context, app: GatewayAppRow, kind: StepKind, input: StepInput): Promise<StepOutcome> {
  const auth = await findAuthOrFail(context, app, { authNo: input.auth_no, outOrderNo: input.out_order_no });
  if (input.currency !== undefined && input.currency !== auth.currency) {
    fail(errors.preauthCurrencyMismatch, `the pre-authorization is in ${auth.currency}, the request says ${input.currency}`);
  }
  const parsed = parseAmount(input.amount, auth.currency);
  if (!parsed.ok) fail(errors.invalidAmount, `amount ${parsed.reason}`);
  const existing = await repository.findOperation(context.pool, auth.auth_no, input.out_request_no);
  if (existing) return { auth, operation: replayOf(existing, kind, parsed.amountMinor), result: null };
  const step: NumberedStep = { kind, initiator: 'MERCHANT', amountMinor: parsed.amountMinor, outRequestNo: input.out_request_no };
  const refusal = stepRefusal(auth, step, now());
  if (refusal) throw refusal;
  return runStep(context, auth, step);
}

/**
 * Releases a hold past its deadline (the expiry job): an UNFREEZE asked by Tongbao itself, numbered
 * `expiry=<try>` ('=' never appears in a merchant's out_request_no). Success marks the hold EXPIRED.
 */
export async function expireHold(context: Context, auth: AuthRow, tries: number): Promise<StepOutcome> {
  return runStep(context, auth, { kind: 'UNFREEZE', initiator: 'EXPIRY', amountMinor: auth.amount_minor, outRequestNo: `expiry=${tries + 1}` });
}

async function runStep(context: Context, auth: AuthRow, step: NumberedStep): Promise<StepOutcome> {
  const started = await startStep(context, auth, step);
  if (started.repeated) return { auth: started.auth, operation: started.operation, result: null };
  return sendToChannel(context, started.auth, started.operation);
}

/**
 * Writes the operation PROCESSING, with its compensation query, once the hold, locked, still accepts it. The
 * in-progress marker (one operation at the channel per hold) is checked under that lock and backed by a unique
 * index. A cancel first locks the trade of the completion and reserves its whole amount, so that no refund of
 * it can start while the channel reverses it.
 */
async function startStep(context: Context, auth: AuthRow, step: NumberedStep): Promise<OperationState & { repeated: boolean }> {
  return withTransaction(context.pool, async (client) => {
    const tradeNo = step.kind === 'COMPLETE_CANCEL' ? auth.trade_no! : null;
    if (tradeNo) await lockCapturedTrade(client, tradeNo);
    const locked = (await repository.findAuthByNo(client, auth.auth_no, true))!;
    const existing = await repository.findOperation(client, auth.auth_no, step.outRequestNo);
    if (existing) return { auth: locked, operation: replayOf(existing, step.kind, step.amountMinor), repeated: true };
    const refusal = stepRefusal(locked, step, now());
    if (refusal) throw refusal;
    const inFlight = await repository.findInFlightOperation(client, auth.auth_no);
    if (inFlight) fail(errors.preauthOperationInProgress, `${inFlight.kind} ${inFlight.operation_no} on this pre-authorization is still at the channel; query it`);

    let reverses: string | null = null;
    if (tradeNo) {
      // Another cancel and completion may have run since the hold was read: then this is not the trade to hold.
      if (locked.trade_no !== tradeNo) fail(errors.preauthOperationInProgress, `the completion of ${auth.auth_no} changed meanwhile; retry`);
      if (!(await reserveCapturedTradeReversal(client, tradeNo, step.amountMinor))) {
        fail(errors.preauthCompletionRefunded, `trade ${tradeNo} of this completion was refunded, or a refund of it is in progress; refund the rest of the trade instead`);
      }
      reverses = (await repository.findCompletionOfTrade(client, auth.auth_no, tradeNo))!.operation_no;
    }
    const operation = await repository.insertOperation(client, {
      authNo: auth.auth_no, kind: step.kind, initiator: step.initiator, outRequestNo: step.outRequestNo, amountMinor: step.amountMinor,
      currency: auth.currency, tradeNo, reversesOperationNo: reverses,
    });
    await scheduleFirstQuery(context, client, operation);
    await recordEvents(client, [{
      aggregateType: 'preauth_operation', aggregateId: operation.operation_no, eventType: 'preauth_operation.started',
      payload: { auth_no: auth.auth_no, kind: step.kind, initiator: step.initiator, amount_minor: step.amountMinor },
    }]);
    return { auth: locked, operation, repeated: false };
  });
}
