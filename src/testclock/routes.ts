import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { now } from '../clock.js';
import type { Context } from '../context.js';
import { errors, fail } from '../errors.js';
import { advanceTestClock, testClockState, type TestClockState } from './index.js';

function present(state: TestClockState) {
  return { enabled: state.enabled, now: state.now.toISOString(), offset_seconds: state.offsetSeconds };
}

/**
 * GET /admin/test-clock and POST /admin/test-clock/advance with `{ "seconds": N }` or `{ "to": "<ISO time>" }`.
 * Answers 409 admin.conflict when the instance runs without TONGBAO_TEST_CLOCK=on.
 */
export async function testClockAdminRoutes(fastify: FastifyInstance, options: { context: Context }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { config, pool } = options.context;

  app.get('/test-clock', async () => present(testClockState(config)));

  app.post('/test-clock/advance', {
    schema: {
      body: Type.Object({
        seconds: Type.Optional(Type.Integer({ minimum: 1 })),
        to: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
      }, { additionalProperties: false }),
    },
  }, async (request) => {
    const { seconds, to } = request.body;
    if ((seconds === undefined) === (to === undefined)) fail(errors.adminInvalidInput, 'give exactly one of seconds or to');
    const target = to === undefined ? null : Date.parse(to);
    if (target !== null && Number.isNaN(target)) fail(errors.adminInvalidInput, `to must be an ISO 8601 time, got ${JSON.stringify(to)}`);
    const by = seconds ?? Math.ceil((target! - now().getTime()) / 1000);
    return present(await advanceTestClock(config, pool, by));
  });
}
