import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Context } from './context.js';
import { withTransaction } from './db/pool.js';
import { countMerchants, createApp, createMerchant } from './merchant/index.js';

export interface DemoCredentials {
  gateway_url: string;
  app_id: string;
  app_private_key: string;
  app_public_key: string;
  platform_public_key: string;
  sign_type: 'RSA2';
}

/**
 * On first start with an empty database, creates a demo merchant and app and writes their credentials
 * to <data>/demo-app.json, so a newcomer can call the gateway at once. An advisory lock makes
 * concurrent first starts create exactly one.
 */
export async function bootstrapDemo(context: Context): Promise<string | null> {
  const credentials = await withTransaction(context.pool, async (client) => {
    await client.query("select pg_advisory_xact_lock(hashtext('tongbao.bootstrap'))");
    if ((await countMerchants(client)) > 0n) return null;
    const merchant = await createMerchant(client, 'Demo Merchant');
    const { app, issued } = await createApp(client, context.secrets, { merchantId: merchant.merchant_id, name: 'Demo App' });
    return {
      gateway_url: `${context.urls.publicUrl}/gateway.do`,
      app_id: app.app_id,
      app_private_key: issued.app_private_key!,
      app_public_key: issued.app_public_key!,
      platform_public_key: context.platformKey.publicKeyPem,
      sign_type: 'RSA2',
    } satisfies DemoCredentials;
  });
  if (!credentials) return null;
  const file = path.join(context.config.dataDir, 'demo-app.json');
  writeFileSync(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return file;
}
