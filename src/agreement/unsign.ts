/**
 * Unsigning (解约): the agreement leaves ACTIVE (or WAIT_CONFIRM) for UNSIGNING before the bank is told, so no
 * payment can name it from that moment; the bank's answer makes it TERMINATED. A lost answer leaves it UNSIGNING,
 * still unusable, and unsigning again tells the bank again (terminating twice changes nothing there).
 */
import { errors, fail } from '../errors.js';
import type { Context } from '../context.js';
import { withTransaction } from '../db/pool.js';
import * as repository from './repository.js';
import type { AgreementWithCard } from './repository.js';
import { withCardOf } from './present.js';
import { recordResult, requireAgreementChannel } from './sign.js';

export async function unsignAgreement(context: Context, agreement: AgreementWithCard): Promise<AgreementWithCard> {
  if (agreement.status === 'TERMINATED') return agreement;
  if (agreement.status === 'FAILED' || agreement.status === 'SIGNING') {
    fail(errors.agreementStatusError, `agreement ${agreement.agreement_no} is ${agreement.status}: nothing is signed to unsign`);
  }
  let unsigning = agreement;
  if (agreement.status !== 'UNSIGNING') {
    const moved = await withTransaction(context.pool, (client) => repository.transition(client, agreement.agreement_no, ['ACTIVE', 'WAIT_CONFIRM'], { status: 'UNSIGNING' }));
    // A racer moved it first (a confirm or another unsign): decide on the state it left.
    if (!moved) return unsignAgreement(context, (await repository.findAgreementByNo(context.pool, agreement.agreement_no))!);
    unsigning = withCardOf(moved, agreement);
  }
  const channel = requireAgreementChannel(context, unsigning.channel, unsigning.currency);
  context.log.info({ agreement_no: unsigning.agreement_no, channel: unsigning.channel }, 'telling the channel to terminate the agreement');
  let result;
  try {
    result = await channel.terminate({ agreementNo: unsigning.agreement_no });
  } catch (error) {
    result = { status: 'UNKNOWN', reason: (error as Error).message } as const;
  }
  if (result.status === 'FAILED') result = { status: 'UNKNOWN', reason: `the channel refused to terminate: ${result.code} ${result.message}` } as const;
  return recordResult(context, unsigning, ['UNSIGNING'], result);
}
