/**
 * The one registry of error codes. Each entry gives the gateway code family (Alipay's: 40001 missing,
 * 40002 invalid, 40004 business failure, 40006 permissions, 20000 unavailable), the precise sub_code,
 * a default human message, and the HTTP status the admin API answers with.
 * The gateway always answers HTTP 200 with the *_response body, as Alipay does.
 */
export interface ErrorDefinition {
  readonly code: '40001' | '40002' | '40004' | '40006' | '20000';
  readonly subCode: string;
  readonly message: string;
  readonly httpStatus: number;
}

export const gatewayCodeMessages: Record<ErrorDefinition['code'], string> = {
  '40001': 'Missing Required Arguments',
  '40002': 'Invalid Arguments',
  '40004': 'Business Failed',
  '40006': 'Insufficient Permissions',
  '20000': 'Service Currently Unavailable',
};

function define(code: ErrorDefinition['code'], subCode: string, message: string, httpStatus = 400): ErrorDefinition {
  return { code, subCode, message, httpStatus };
}

export const errors = {
  // Protocol checks, in the order the gateway applies them.
  invalidCharset: define('40002', 'isv.invalid-charset', 'charset must be utf-8'),
  invalidEncoding: define('40002', 'isv.invalid-encoding', 'the request is not valid UTF-8 or not a valid form encoding'),
  missingAppId: define('40001', 'isv.missing-app-id', 'app_id is required'),
  missingMethod: define('40001', 'isv.missing-method', 'method is required'),
  missingSignType: define('40001', 'isv.missing-signature-type', 'sign_type is required'),
  missingSignature: define('40001', 'isv.missing-signature', 'sign is required'),
  missingTimestamp: define('40001', 'isv.missing-timestamp', 'timestamp is required'),
  missingVersion: define('40001', 'isv.missing-version', 'version is required'),
  invalidFormat: define('40002', 'isv.invalid-format', 'format must be JSON'),
  invalidVersion: define('40002', 'isv.invalid-version', 'version must be 1.0'),
  invalidSignType: define('40002', 'isv.invalid-signature-type', 'sign_type must be RSA2 or HMAC-SHA256'),
  invalidTimestamp: define('40002', 'isv.invalid-timestamp', 'timestamp must be yyyy-MM-dd HH:mm:ss'),
  invalidAppIdFormat: define('40002', 'isv.invalid-app-id-format', 'app_id must be 1 to 32 letters or digits'),
  invalidMethodFormat: define('40002', 'isv.invalid-method-format', 'method must look like tongbao.area.verb'),
  invalidNotifyUrl: define('40002', 'isv.invalid-notify-url', 'notify_url must be an http or https URL'),
  invalidCharacters: define('40002', 'isv.invalid-characters', 'identifiers must not contain ? & = whitespace or control characters'),
  invalidBizContent: define('40002', 'isv.invalid-biz-content', 'biz_content must be a JSON object'),
  reservedKeyInBizContent: define('40002', 'isv.reserved-key-in-biz-content', 'biz_content must not contain common parameters'),
  duplicateParameter: define('40002', 'isv.duplicate-parameter', 'a parameter appears more than once'),
  timestampOutOfWindow: define('40002', 'isv.timestamp-out-of-window', 'timestamp is too far from the server time'),
  invalidAppId: define('40002', 'isv.invalid-app-id', 'no app has this app_id'),
  appFrozen: define('40006', 'isv.app-frozen', 'the app is frozen', 403),
  merchantFrozen: define('40006', 'isv.merchant-frozen', 'the merchant is frozen', 403),
  invalidMethod: define('40002', 'isv.invalid-method', 'no such method'),
  methodNotPermitted: define('40006', 'isv.method-not-permitted', 'the app may not call this method', 403),
  ipNotAllowed: define('40006', 'isv.ip-not-allowed', 'the caller IP is not in the app allowlist', 403),
  signTypeMismatch: define('40002', 'isv.signature-type-mismatch', 'sign_type does not match the app key type'),
  invalidSignature: define('40002', 'isv.invalid-signature', 'the signature does not verify'),

  // Business parameters (biz_content fields).
  missingParameter: define('40001', 'isv.missing-parameter', 'a required parameter is missing'),
  invalidParameter: define('40002', 'isv.invalid-parameter', 'a parameter has an invalid value'),
  unknownParameter: define('40002', 'isv.unknown-parameter', 'biz_content has a field this method does not take'),
  invalidAmount: define('40002', 'isv.invalid-amount', 'the amount is not a valid positive decimal in the currency'),
  currencyNotSupported: define('40002', 'isv.currency-not-supported', 'the currency is not supported'),
  escrowAmountNotAllowed: define('40002', 'isv.escrow-amount-not-allowed', 'escrow_amount is only for trade_type ESCROW'),
  royaltyNotAllowed: define('40002', 'isv.royalty-not-allowed', 'royalty_parameters at creation are only for INSTANT trades; split an escrow trade when settling it'),
  royaltyTooManyReceivers: define('40002', 'isv.royalty-too-many-receivers', 'royalty_parameters has more receivers than allowed'),
  royaltyDuplicateReceiver: define('40002', 'isv.royalty-duplicate-receiver', 'royalty_parameters names the same receiver twice'),

  // Business results.
  tradeNotExist: define('40004', 'ACQ.TRADE_NOT_EXIST', 'the trade does not exist', 404),
  contextInconsistent: define('40004', 'ACQ.CONTEXT_INCONSISTENT', 'out_trade_no was already used with different parameters', 409),
  amountOverLimit: define('40004', 'ACQ.TOTAL_FEE_EXCEED', 'the amount is above the app limit', 422),
  tradeHasSuccess: define('40004', 'ACQ.TRADE_HAS_SUCCESS', 'the trade is already paid', 409),
  tradeHasClose: define('40004', 'ACQ.TRADE_HAS_CLOSE', 'the trade is closed', 409),
  tradeStatusError: define('40004', 'ACQ.TRADE_STATUS_ERROR', 'the trade is not in a state that allows this', 409),
  payInProgress: define('40004', 'ACQ.PAY_IN_PROGRESS', 'a payment attempt for this trade is still in progress', 409),
  channelNotSupported: define('40004', 'ACQ.CHANNEL_NOT_SUPPORTED', 'the channel is unknown or not enabled', 422),
  channelLimitExceeded: define('40004', 'ACQ.CHANNEL_LIMIT_EXCEEDED', "the payment is over the channel's single or daily limit for this merchant", 422),
  channelUnavailable: define('40004', 'ACQ.CHANNEL_UNAVAILABLE', 'the channel is out of service or overloaded; nothing was charged', 503),
  paymentDeclined: define('40004', 'ACQ.PAYMENT_FAIL', 'the channel declined the payment', 422),
  buyerBalanceNotEnough: define('40004', 'ACQ.BUYER_BALANCE_NOT_ENOUGH', 'the payer has not enough funds', 422),
  refundAmountExceeded: define('40004', 'ACQ.REFUND_AMT_NOT_EQUAL_TOTAL', 'the refund amount is above what remains refundable', 422),
  tradeNotAllowRefund: define('40004', 'ACQ.TRADE_NOT_ALLOW_REFUND', 'the trade cannot be refunded', 409),
  refundRequestConflict: define('40004', 'ACQ.REFUND_REQUEST_CONFLICT', 'out_request_no was already used with different parameters', 409),
  refundNotExist: define('40004', 'ACQ.REFUND_NOT_EXIST', 'the refund does not exist', 404),
  amountModifyNotAllowed: define('40004', 'ACQ.AMOUNT_MODIFY_NOT_ALLOWED', 'a payment attempt has started; the amount can no longer change', 409),
  cancelNotAllowed: define('40004', 'ACQ.CANCEL_NOT_ALLOWED', 'the trade can no longer be cancelled; refund it instead', 409),
  escrowAmountExceed: define('40004', 'ACQ.ESCROW_AMOUNT_EXCEED', 'escrow_amount is above total_amount', 422),
  royaltyAmountExceed: define('40004', 'ACQ.ROYALTY_AMOUNT_EXCEED', 'the splits add up to more than the amount they share', 422),
  royaltyReceiverInvalid: define('40004', 'ACQ.ROYALTY_RECEIVER_INVALID', 'a split receiver does not exist, is not NORMAL, or is the trade\'s own merchant', 422),
  tradeNotEscrow: define('40004', 'ACQ.TRADE_NOT_ESCROW', 'the trade is not an escrow trade', 409),
  settleAmountExceed: define('40004', 'ACQ.SETTLE_AMOUNT_EXCEED', 'the settle amount is above what remains in escrow', 422),
  settleRequestConflict: define('40004', 'ACQ.SETTLE_REQUEST_CONFLICT', 'out_request_no was already used with different parameters', 409),

  // Pre-authorization (tongbao.preauth.*).
  preauthNotExist: define('40004', 'AUTH.ORDER_NOT_EXIST', 'the pre-authorization does not exist', 404),
  preauthOrderConflict: define('40004', 'AUTH.ORDER_CONFLICT', 'out_order_no was already used with different parameters', 409),
  preauthRequestConflict: define('40004', 'AUTH.REQUEST_CONFLICT', 'out_request_no was already used on this pre-authorization with different parameters', 409),
  preauthOperationNotExist: define('40004', 'AUTH.OPERATION_NOT_EXIST', 'the pre-authorization has no operation with this out_request_no', 404),
  preauthOperationInProgress: define('40004', 'AUTH.OPERATION_IN_PROGRESS', 'another operation on this pre-authorization is still at the channel', 409),
  preauthNotFrozen: define('40004', 'AUTH.ORDER_NOT_FROZEN', 'the freeze failed; nothing is held', 409),
  preauthHasCompleted: define('40004', 'AUTH.ORDER_HAS_COMPLETED', 'the pre-authorization is completed; the rest of the hold was released', 409),
  preauthHasUnfrozen: define('40004', 'AUTH.ORDER_HAS_UNFROZEN', 'the hold was unfrozen', 409),
  preauthHasExpired: define('40004', 'AUTH.ORDER_HAS_EXPIRED', 'the hold has expired', 409),
  preauthNotCompleted: define('40004', 'AUTH.ORDER_NOT_COMPLETED', 'the pre-authorization has no completion to cancel', 409),
  preauthCompletionRefunded: define('40004', 'AUTH.COMPLETION_REFUNDED', 'the completion was refunded; refund the rest of its trade instead', 409),
  preauthAmountExceeded: define('40004', 'AUTH.AMOUNT_EXCEEDED', 'the amount is above the amount held', 422),
  preauthFullAmountOnly: define('40004', 'AUTH.FULL_AMOUNT_ONLY', 'unfreeze and complete.cancel take exactly the full amount', 422),
  preauthCurrencyMismatch: define('40004', 'AUTH.CURRENCY_MISMATCH', 'the currency differs from the pre-authorization currency', 422),
  preauthOperationFailed: define('40004', 'AUTH.OPERATION_FAILED', 'the channel declined the operation; nothing changed', 422),

  // Users and their accounts (tongbao.user.*, tongbao.fund.*, tongbao.account.*).
  userNotExist: define('40004', 'ACCOUNT.USER_NOT_EXIST', 'the user does not exist', 404),
  accountNotExist: define('40004', 'ACCOUNT.NOT_EXIST', 'the account does not exist', 404),
  balanceNotEnough: define('40004', 'ACCOUNT.BALANCE_NOT_ENOUGH', 'the available balance is not enough', 422),
  creditLimitExceeded: define('40004', 'ACCOUNT.CREDIT_LIMIT_EXCEEDED', 'the amount is above what remains of the credit limit', 422),
  accountFrozen: define('40004', 'ACCOUNT.FROZEN', 'the account is frozen: no money may leave it', 409),
  accountBlacklisted: define('40004', 'ACCOUNT.BLACKLISTED', 'the account is blacklisted: no money may move in or out', 409),
  realNameRequired: define('40004', 'ACCOUNT.REAL_NAME_REQUIRED', 'verified real-name information is required first', 409),
  withdrawDailyLimitExceeded: define('40004', 'ACCOUNT.DAILY_LIMIT_EXCEEDED', 'the amount is above what remains of the daily withdrawal limit', 422),
  transferToSelf: define('40004', 'ACCOUNT.TRANSFER_TO_SELF', 'payer and payee are the same account', 422),
  accountCurrencyMismatch: define('40004', 'ACCOUNT.CURRENCY_MISMATCH', 'the currency differs from the account currency', 422),
  coinUnitNotExist: define('40004', 'ACCOUNT.COIN_UNIT_NOT_EXIST', 'the app has no such coin unit', 404),
  fundOrderConflict: define('40004', 'ACCOUNT.ORDER_CONFLICT', 'out_biz_no was already used with different parameters', 409),
  fundOrderNotExist: define('40004', 'ACCOUNT.ORDER_NOT_EXIST', 'no order has this out_biz_no', 404),
  // Cards and agreements (tongbao.agreement.*). The messages never repeat a card number.
  invalidCardNo: define('40002', 'isv.invalid-card-no', 'card_no is not a valid card number (12 to 19 digits with a valid Luhn check digit)'),
  cardBinUnknown: define('40004', 'AGREEMENT.CARD_BIN_UNKNOWN', 'no known bank issues cards with this BIN', 422),
  agreementNotExist: define('40004', 'AGREEMENT.NOT_EXIST', 'the agreement does not exist', 404),
  agreementConflict: define('40004', 'AGREEMENT.ORDER_CONFLICT', 'out_agreement_no was already used with different parameters', 409),
  agreementCardSigned: define('40004', 'AGREEMENT.CARD_ALREADY_SIGNED', 'this card already has a live agreement of this type', 409),
  agreementSignFailed: define('40004', 'AGREEMENT.SIGN_FAILED', 'the bank refused to sign the agreement', 422),
  agreementCodeInvalid: define('40004', 'AGREEMENT.VERIFY_CODE_INVALID', 'the verification code is wrong', 422),
  agreementCodeExpired: define('40004', 'AGREEMENT.VERIFY_CODE_EXPIRED', 'the verification code expired; sign again', 422),
  agreementCodeLocked: define('40004', 'AGREEMENT.VERIFY_CODE_LOCKED', 'too many wrong verification codes; sign again', 422),
  agreementStatusError: define('40004', 'AGREEMENT.STATUS_ERROR', 'the agreement is not in a state that allows this', 409),
  agreementNotActive: define('40004', 'AGREEMENT.NOT_ACTIVE', 'the agreement is not signed, or was terminated', 409),
  agreementTypeMismatch: define('40004', 'AGREEMENT.TYPE_MISMATCH', 'the agreement is of another type', 422),
  agreementChannelMismatch: define('40004', 'AGREEMENT.CHANNEL_MISMATCH', 'the agreement was signed through another channel', 422),
  agreementCurrencyMismatch: define('40004', 'AGREEMENT.CURRENCY_MISMATCH', 'the amount is in another currency than the agreement', 422),
  agreementSingleLimitExceeded: define('40004', 'AGREEMENT.SINGLE_LIMIT_EXCEEDED', 'the amount is above the agreement limit per payment', 422),
  agreementPeriodLimitExceeded: define('40004', 'AGREEMENT.PERIOD_LIMIT_EXCEEDED', 'the debit would exceed the agreement limit for the period', 422),
  agreementDebitConflict: define('40004', 'AGREEMENT.DEBIT_CONFLICT', 'out_trade_no was already used on this agreement with another amount or currency', 409),

  // Local payment methods (balance, coin, credit), pay passwords and credit bills.
  payPasswordRequired: define('40004', 'ACCOUNT.PAY_PASSWORD_REQUIRED', 'this payment needs the pay password', 403),
  payPasswordNotSet: define('40004', 'ACCOUNT.PAY_PASSWORD_NOT_SET', 'the user has not set a pay password', 409),
  payPasswordError: define('40004', 'ACCOUNT.PAY_PASSWORD_ERROR', 'the pay password is wrong', 403),
  payPasswordLocked: define('40004', 'ACCOUNT.PAY_PASSWORD_LOCKED', 'too many wrong pay passwords; locked for a while', 423),
  payPasswordInvalid: define('40002', 'ACCOUNT.PAY_PASSWORD_INVALID', 'a pay password is 6 digits, not all the same and not a run such as 123456'),
  noPasswordLimitExceeded: define('40004', 'ACCOUNT.NOPASSWORD_LIMIT_EXCEEDED', 'the password-free limit is above what the app allows', 422),
  coinFraction: define('40004', 'ACCOUNT.COIN_FRACTION', 'the amount would need part of a coin', 422),
  creditBillNotExist: define('40004', 'CREDIT.BILL_NOT_EXIST', 'no such credit bill', 404),
  repayAmountExceeded: define('40004', 'CREDIT.REPAY_AMOUNT_EXCEEDED', 'the repayment is above what is owed', 422),
  repayRequestConflict: define('40004', 'CREDIT.REPAY_REQUEST_CONFLICT', 'out_request_no was used for another repayment', 409),

  systemError: define('20000', 'ACQ.SYSTEM_ERROR', 'the system is busy; query the trade or retry later', 503),
  unknownError: define('20000', 'isp.unknown-error', 'an unexpected error occurred; it has been logged', 500),

  // Admin API.
  unauthorized: define('40006', 'admin.unauthorized', 'a valid admin bearer token is required', 401),
  notFound: define('40004', 'admin.not-found', 'no such record', 404),
  adminInvalidInput: define('40002', 'admin.invalid-input', 'the request body is invalid', 400),
  adminConflict: define('40004', 'admin.conflict', 'the record is not in a state that allows this', 409),
} as const;

export type ErrorName = keyof typeof errors;

/** An expected failure with a registered code. `detail` replaces the default message with a precise one. */
export class TongbaoError extends Error {
  constructor(readonly definition: ErrorDefinition, detail?: string) {
    super(detail ?? definition.message);
    this.name = 'TongbaoError';
  }

  get subCode(): string {
    return this.definition.subCode;
  }
}

export function fail(definition: ErrorDefinition, detail?: string): never {
  throw new TongbaoError(definition, detail);
}
