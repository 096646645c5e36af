import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Fields that must never reach a log line: keys, secrets, signatures, card data. */
export const redactedPaths = [
  'sign', '*.sign', 'app_private_key', '*.app_private_key', 'private_key', '*.private_key', 'secret', '*.secret',
  'req.headers.authorization', 'headers.authorization', 'password', '*.password', 'card_no', '*.card_no',
  'card_cvv', '*.card_cvv', 'card_expiry', '*.card_expiry', 'cvv', '*.cvv', 'verify_code', '*.verify_code',
  'pay_password', '*.pay_password', 'old_pay_password', '*.old_pay_password', 'new_pay_password', '*.new_pay_password',
];

/** Query-string parameters whose values a request log line leaves out: biz_content may carry a card number. */
const hiddenQueryParameters = ['biz_content', 'sign'];

/**
 * The request URL as logged. Alipay clients may send biz_content in the query string (GET /gateway.do), and it
 * may hold a card number, so those values are replaced before Fastify writes its request lines.
 */
export function loggableUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const kept = url.slice(queryStart + 1).split('&').map((pair) => {
    const name = decodeURIComponentSafe(pair.split('=')[0] ?? '');
    return hiddenQueryParameters.includes(name) ? `${pair.split('=')[0]}=[redacted]` : pair;
  });
  return `${url.slice(0, queryStart)}?${kept.join('&')}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

const serializers = {
  req(request: { method?: string; url?: string; ip?: string; socket?: { remotePort?: number } }) {
    return { method: request.method, url: loggableUrl(request.url ?? ''), remoteAddress: request.ip, remotePort: request.socket?.remotePort };
  },
};

/** Tongbao's logger; tests pass a destination to read what was logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: '[redacted]' }, base: { service: 'tongbao' }, serializers };
  return destination ? pino(options, destination) : pino(options);
}
