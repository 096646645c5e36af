/**
 * Every channel Tongbao has, each against its simulator, put in service on one test instance through the admin
 * API as an operator would (PUT /admin/channels/:channel), with the simulators sending their callbacks to that
 * instance's own notify URLs. Each channel comes with a driver: how a merchant asks to pay through it (its
 * natural product and payer), and how the test, acting as the payer, finishes a payment the channel left to them.
 */
import { request } from 'undici';
import { generateRsaKeyPair } from '../../src/shared/crypto.js';
import { formBody } from '../../src/channels/unionpay/protocol.js';
import { paymentIntentEvents, refundEvents } from '../../src/channels/stripe/events.js';
import type { TestInstance } from './instance.js';
import { startAlipaySimulator, type AlipaySimulator } from '../simulators/alipay/index.js';
import { startStripeSimulator, type StripeSimulator } from '../simulators/stripe/simulator.js';
import { generateUnionpayTestPki } from '../simulators/unionpay/pki.js';
import { startUnionpaySimulator, type UnionpaySimulator } from '../simulators/unionpay/server.js';
import { adapterConfigInput, generateWechatCredentials } from '../simulators/wechat/keys.js';
import { startWechatSimulator, type WechatSimulator } from '../simulators/wechat/simulator.js';

/** What a gateway call answered (tongbao.trade.pay, tongbao.preauth.freeze), as the alipay-sdk client returns it (camelCase keys). */
export interface PayAnswer {
  readonly tradeStatus?: string;
  readonly attemptNo?: string;
  readonly payerAction?: { readonly type: string; readonly url?: string; readonly content?: string; readonly fields?: Record<string, string> };
}

export interface ChannelDriver {
  readonly channel: string;
  /** The channel's natural product for an instant payment, and the payer fields it needs. */
  readonly payFields: Readonly<Record<string, string>>;
  /** Whether the channel also calls back about a refund it already answered as done. */
  readonly refundCallbacks: boolean;
  /** The payer's next step the channel hands back, or null when the channel answers pay with the result itself. */
  readonly payerActionType: string | null;
  /** The test, as the payer, finishes the payment at the channel; the channel then calls Tongbao back. */
  payerActs(answer: PayAnswer): Promise<void>;
  /** For each callback the channel sent about this number: whether Tongbao's answer meant "received" in the channel's own terms. */
  callbacksAcknowledged(subjectNo: string): boolean[];
}

export interface ChannelFleet {
  readonly drivers: readonly ChannelDriver[];
  readonly alipay: AlipaySimulator;
  readonly wechat: WechatSimulator;
  readonly unionpay: UnionpaySimulator;
  readonly stripe: StripeSimulator;
  close(): Promise<void>;
}

const alipayAppId = '2021000122600001';
const unionpayMerId = '777290058110048';
export const stripeWebhookSecret = 'whsec_channel_flow_0123456789abcdef';

async function putInService(t: TestInstance, channel: string, config: Record<string, unknown>): Promise<void> {
  const saved = await t.admin('PUT', `/channels/${channel}`, { enabled: true, config });
  if (saved.status !== 200 || saved.body.in_service !== true) throw new Error(`${channel} was not put in service: ${JSON.stringify(saved.body)}`);
}

export async function startChannelFleet(t: TestInstance): Promise<ChannelFleet> {
  const notifyUrl = (channel: string) => `${t.url}/channels/${channel}/notify`;

  const appKeys = generateRsaKeyPair();
  const alipayKeys = generateRsaKeyPair();
  const alipay = await startAlipaySimulator({ appId: alipayAppId, appPublicKeyPem: appKeys.publicKeyPem, alipayPrivateKeyPem: alipayKeys.privateKeyPem, notifyRetryDelaysMs: [200, 500, 1000] });
  await putInService(t, 'alipay', { appId: alipayAppId, appPrivateKeyPem: appKeys.privateKeyPem, alipayPublicKeyPem: alipayKeys.publicKeyPem, gatewayUrl: alipay.gatewayUrl, timeoutMs: 3000 });

  const wechatCredentials = generateWechatCredentials();
  const wechat = await startWechatSimulator({ credentials: wechatCredentials, callbackRetryDelaysMs: [200, 500, 1000] });
  await putInService(t, 'wechat', { ...adapterConfigInput(wechatCredentials, wechat.url), timeoutMs: 3000 });

  const pki = await generateUnionpayTestPki();
  const unionpay = await startUnionpaySimulator({
    pki, merchants: [{ merId: unionpayMerId, certId: pki.merchant.certId, publicKeyPem: pki.merchant.publicKeyPem }], callbackRetryDelaysMs: [200, 500, 1000],
  });
  await putInService(t, 'unionpay', {
    baseUrl: unionpay.url, merId: unionpayMerId, certId: pki.merchant.certId, merchantPrivateKeyPem: pki.merchant.privateKeyPem,
    rootCertPem: pki.rootCertPem, intermediateCertPem: pki.intermediateCertPem, signerName: pki.signerName, notifyUrl: notifyUrl('unionpay'), tokenRequestorId: '62000000001', timeoutMs: 3000,
  });

  const stripe = await startStripeSimulator({ webhookRetryDelaysMs: [200, 500, 1000] });
  // The events Tongbao's Stripe page tells operators to subscribe the endpoint to.
  stripe.addWebhookEndpoint(notifyUrl('stripe'), stripeWebhookSecret, [...paymentIntentEvents, ...refundEvents]);
  await putInService(t, 'stripe', { secretKey: stripe.secretKey, webhookSecret: stripeWebhookSecret, apiBaseUrl: stripe.url, timeoutMs: 3000 });

  const attemptOf = (answer: PayAnswer): string => {
    if (!answer.attemptNo) throw new Error(`the pay answer names no attempt: ${JSON.stringify(answer)}`);
    return answer.attemptNo;
  };

  const drivers: ChannelDriver[] = [
    {
      channel: 'sandbox',
      refundCallbacks: false,
      payFields: { product: 'SANDBOX_PAY' },
      payerActionType: null,
      payerActs: async () => {},
      callbacksAcknowledged: () => [],
    },
    {
      channel: 'alipay',
      refundCallbacks: true,
      payFields: { product: 'ALIPAY_PRECREATE' },
      payerActionType: 'QR_CODE',
      // The payer scans the QR code and pays in the Alipay app.
      payerActs: async (answer) => alipay.payerPays(attemptOf(answer)),
      // Alipay reads the body only: exactly "success".
      callbacksAcknowledged: (subjectNo) => alipay.deliveries
        .filter((delivery) => delivery.url === notifyUrl('alipay') && (delivery.params.out_trade_no === subjectNo || delivery.params.out_biz_no === subjectNo))
        .map((delivery) => delivery.answer.trim() === 'success'),
    },
    {
      channel: 'wechat',
      refundCallbacks: true,
      payFields: { product: 'WECHAT_NATIVE' },
      payerActionType: 'QR_CODE',
      // The payer scans the code_url with WeChat and pays.
      payerActs: async (answer) => void wechat.pay(attemptOf(answer)),
      // WeChat takes HTTP 200 or 204.
      callbacksAcknowledged: (subjectNo) => wechat.deliveries
        .filter((delivery) => delivery.url === notifyUrl('wechat') && delivery.subjectNo === subjectNo)
        .map((delivery) => delivery.statusCode === 200 || delivery.statusCode === 204),
    },
    {
      channel: 'unionpay',
      refundCallbacks: true,
      payFields: { product: 'UNIONPAY_GATEWAY' },
      payerActionType: 'FORM',
      // The payer's browser posts the signed form to UnionPay's gateway, and the payer pays on its cashier page.
      payerActs: async (answer) => {
        const action = answer.payerAction;
        if (action?.type !== 'FORM' || !action.url || !action.fields) throw new Error(`expected a FORM payer action, got ${JSON.stringify(action)}`);
        const page = await request(action.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: formBody(action.fields) });
        await page.body.dump();
      },
      // UnionPay takes HTTP 200 only.
      callbacksAcknowledged: (subjectNo) => unionpay.callbacks.filter((callback) => callback.orderId === subjectNo).map((callback) => callback.statusCode === 200),
    },
    {
      channel: 'stripe',
      refundCallbacks: true,
      // A test PaymentMethod, as the payer's card details become one in Stripe.js before Tongbao sees them.
      payFields: { product: 'STRIPE_CARD', payer_type: 'stripe_payment_method', payer_id: 'pm_card_visa' },
      payerActionType: null,
      payerActs: async () => {},
      // Stripe takes any 2xx.
      callbacksAcknowledged: (subjectNo) => {
        const ids = new Set(stripe.events.filter((event) => JSON.stringify(event.data).includes(`"${subjectNo}"`)).map((event) => event.id));
        return stripe.deliveries.filter((delivery) => ids.has(delivery.eventId)).map((delivery) => delivery.statusCode >= 200 && delivery.statusCode < 300);
      },
    },
  ];

  return {
    drivers, alipay, wechat, unionpay, stripe,
    async close() {
      await Promise.all([alipay.close(), wechat.close(), unionpay.close(), stripe.close()]);
    },
  };
}
