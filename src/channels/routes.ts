import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { channelFactories } from './factories.js';
import { listConfigs, saveConfig } from './configs.js';
import type { ChannelHealthReport } from './guard.js';

function present(report: ChannelHealthReport) {
  return {
    channel: report.channel, state: report.state, in_flight: report.inFlight, queued: report.queued,
    calls: report.calls, availability: report.availability, success_rate: report.successRate, p50_ms: report.p50Ms, p99_ms: report.p99Ms,
  };
}

/**
 * GET /admin/channels/health: breaker state, load and recent figures per channel (this process's view).
 * POST /admin/channels/:channel/isolate and /release: take a channel out of service and back.
 * GET /admin/metrics: Prometheus text format.
 */
export async function channelAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { channels, config } = options.context;
  const windowSeconds = config.TONGBAO_CHANNEL_HEALTH_WINDOW_SECONDS;

  /**
   * Every channel: the instances in service with their capabilities, the stored ones with their state, and each
   * configurable adapter not configured yet under its own name.
   */
  app.get('/channels', async () => {
    const stored = new Map((await listConfigs(options.context.pool)).map((row) => [row.channel, row]));
    const names = [...new Set([...channels.names(), ...stored.keys(), ...Object.keys(channelFactories)])].sort();
    return {
      channels: names.map((name) => {
        const channel = channels.get(name);
        const row = stored.get(name);
        return {
          channel: name,
          adapter: row?.adapter ?? channels.info(name)?.adapter ?? name,
          merchant_id: row?.merchant_id ?? null,
          in_service: channel !== undefined,
          configurable: name !== 'sandbox',
          enabled: row?.enabled ?? channel !== undefined,
          updated_at: row?.updated_at ?? null,
          capabilities: channel ? { ...channel.capabilities, maxAmountMinor: channel.capabilities.maxAmountMinor?.toString() ?? null } : null,
        };
      }),
    };
  });

  app.put('/channels/:channel', {
    schema: {
      params: Type.Object({ channel: Type.String({ maxLength: 32 }) }),
      body: Type.Object({
        enabled: Type.Boolean(),
        // The adapter's own settings and credentials (docs/channels/<name>.md); validated by building the adapter.
        config: Type.Object({}, { additionalProperties: true }),
        adapter: Type.Optional(Type.String({ minLength: 1, maxLength: 32, description: 'default: the channel name' })),
        merchant_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "a merchant's own account; default the platform's" })),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const { config: channelConfig, ...rest } = request.body;
    const row = await saveConfig(options.context, request.params.channel, { ...rest, config: channelConfig as Record<string, unknown> });
    return { ...row, in_service: channels.get(row.channel) !== undefined };
  });

  app.get('/channels/health', async () => ({ window_seconds: windowSeconds, channels: channels.health().map(present) }));

  const params = { params: Type.Object({ channel: Type.String({ maxLength: 32 }) }) };
  for (const action of ['isolate', 'release'] as const) {
    app.post(`/channels/:channel/${action}`, { schema: params }, async (request) => {
      const channel = channels.get(request.params.channel);
      if (!channel) fail(errors.notFound, `no channel ${request.params.channel}; enabled: ${channels.names().join(', ') || 'none'}`);
      channel[action]();
      request.log.warn({ channel: channel.name, action }, `channel ${action} by an operator`);
      return present(channel.health());
    });
  }

  app.get('/metrics', async (_request, reply) => {
    reply.type(channels.metrics.registry.contentType);
    return channels.metrics.registry.metrics();
  });
}
