import { compact, type Presenter } from '../trade/index.js';
import type { AuthRow, OperationRow } from './repository.js';
import { restAmount } from './rules.js';

/** The hold as the gateway answers and notifies it, in Alipay's fund-auth words. */
export function authFields(present: Presenter, auth: AuthRow): Record<string, string | undefined> {
  return {
    auth_no: auth.auth_no,
    out_order_no: auth.out_order_no,
    auth_status: auth.status,
    channel: auth.channel,
    currency: auth.currency,
    total_freeze_amount: present.amount(auth.amount_minor, auth.currency),
    total_pay_amount: present.amount(auth.completed_amount_minor, auth.currency),
    rest_amount: present.amount(restAmount(auth), auth.currency),
    trade_no: auth.trade_no ?? undefined,
    subject: auth.subject,
    gmt_create: present.time(auth.created_at),
    gmt_authorized: present.time(auth.authorized_at),
    time_expire: present.time(auth.expires_at),
  };
}

/** One operation on the hold. Its trade_no (the trade a completion made or a cancel reversed) wins over the hold's. */
export function operationFields(present: Presenter, operation: OperationRow): Record<string, string | undefined> {
  return {
    operation_no: operation.operation_no,
    out_request_no: operation.out_request_no,
    operation_type: operation.kind,
    status: operation.status,
    amount: present.amount(operation.amount_minor, operation.currency),
    gmt_trans: present.time(operation.finished_at),
    failure_code: operation.failure_code ?? undefined,
    failure_reason: operation.failure_message ?? undefined,
    ...(operation.trade_no === null ? {} : { trade_no: operation.trade_no }),
  };
}

/** An operation with the hold as it stands after it: what the four step methods answer and preauth_status_sync carries. */
export function operationWithAuth(present: Presenter, auth: AuthRow, operation: OperationRow): Record<string, string> {
  return compact({ ...authFields(present, auth), ...operationFields(present, operation) });
}
