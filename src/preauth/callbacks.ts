import type { ChannelOperationResult } from '../channels/types.js';
import type { Context } from '../context.js';
import { recordOperationOutcome } from './outcomes.js';
import * as repository from './repository.js';

/**
 * A verified channel callback about an operation (kind OPERATION), applied through the same guarded path as a
 * synchronous answer. Returns false when the number is not a pre-authorization operation of this channel, so
 * the callback route can offer it to another domain (payouts use OPERATION callbacks too).
 */
export async function recordPreauthCallback(context: Context, channel: string, operationNo: string, result: ChannelOperationResult): Promise<boolean> {
  const operation = await repository.findOperationByNo(context.pool, operationNo);
  if (!operation) return false;
  const auth = await repository.findAuthByNo(context.pool, operation.auth_no);
  if (auth?.channel !== channel) return false;
  await recordOperationOutcome(context, operation, result);
  return true;
}
