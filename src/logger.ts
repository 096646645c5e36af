import { pino, type Logger } from 'pino';

export type { Logger };

/** Fields that must never reach a log line: keys, secrets, signatures, card data. */
export const redactedPaths = [
  'sign', '*.sign', 'app_private_key', '*.app_private_key', 'private_key', '*.private_key', 'secret', '*.secret',
  'req.headers.authorization', 'headers.authorization', 'password', '*.password', 'card_no', '*.card_no',
  'pay_password', '*.pay_password', 'old_pay_password', '*.old_pay_password', 'new_pay_password', '*.new_pay_password',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'tongbao' } });
}
