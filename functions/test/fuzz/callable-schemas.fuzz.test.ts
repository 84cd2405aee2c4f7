/**
 * Every callable's input schema, fuzzed (issue 16): random JSON, and objects built from the
 * fields the API knows with plausible and hostile values, must either parse or be refused with
 * `invalid-argument`; never any other error. Every handler, called with such data by a random
 * user, answers or refuses with a coded LifeboatError; nothing else escapes.
 */
import fc from 'fast-check';
import type { z } from 'zod';
import { API_HANDLERS, type ApiName } from '../../src/core/api';
import { parseInput } from '../../src/core/api/callable';
import * as schemas from '@lifeboat/protocol';
import { ChangeEndToEndParamsInput, GetEndToEndParamsInput, InitEndToEndParamsInput, RegisterDeviceInput, RestorePlanInput, GetRetentionPolicyInput, SetRetentionPolicyInput } from '@lifeboat/protocol';
import { LifeboatError } from '../../src/core/errors';
import { createHarness } from '../fakes/engine-harness';
import { checkProperty } from './fuzz';

const INPUT_SCHEMAS: Record<string, z.ZodType> = {
  ...Object.fromEntries(Object.entries(schemas).filter(([name]) => /Input$|Ref$/.test(name))),
  GetEndToEndParamsInput, InitEndToEndParamsInput, ChangeEndToEndParamsInput, RegisterDeviceInput, RestorePlanInput, SetRetentionPolicyInput, GetRetentionPolicyInput,
} as Record<string, z.ZodType>;

const FIELDS = [
  'jobId', 'deviceId', 'types', 'options', 'chunks', 'chunkId', 'chunkCount', 'reason', 'status', 'limit', 'pageToken', 'snapshotId',
  'samplePercent', 'scheduleId', 'kind', 'timeZone', 'everyHours', 'cron', 'enabled', 'policy', 'params', 'previousKeyCheck', 'fcmToken',
  'itemIds', 'conversations', 'from', 'to', 'pageSize', 'includeSkipped', 'id', 'type', 'size', 'items', 'refs', '__proto__', 'constructor',
];

const deep = fc.integer({ min: 1, max: 5_000 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as unknown);
const plausible: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('job-00000001', 'a'.repeat(64), 'b'.repeat(65), 'contacts', 'chats', 'media', 'deviceInfo', 'nightly', 'custom', 'UTC', 'Europe/London', 'user', '', '0 2 * * *', 'snap_job-00000001'),
  fc.constantFrom(0, -1, 1, 250, 251, 1e21, Number.MAX_SAFE_INTEGER, 0.5, true, false, null),
  fc.array(fc.constantFrom('contacts', 'chats', 'media', 'deviceInfo', 'photos'), { maxLength: 5 }),
  fc.string({ maxLength: 300 }),
  fc.jsonValue({ maxDepth: 4 }),
  deep,
);
const structured = fc.oneof(
  fc.dictionary(fc.constantFrom(...FIELDS), plausible, { maxKeys: 8 }),
  fc.record({ chunks: fc.array(fc.dictionary(fc.constantFrom(...FIELDS), plausible, { maxKeys: 6 }), { maxLength: 300 }) }),
);
const anyInput: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue(), structured, deep, fc.constant(undefined));

describe('callable input schemas under random input', () => {
  it.each(Object.keys(INPUT_SCHEMAS))('%s parses or refuses with invalid-argument', async (name) => {
    const schema = INPUT_SCHEMAS[name] as z.ZodType;
    await checkProperty(`schema ${name}`, fc.property(anyInput, (data) => {
      try {
        parseInput(schema, data, name);
      } catch (err) {
        if (!(err instanceof LifeboatError) || err.code !== 'invalid-argument') throw err;
      }
    }), { runs: 150, shareOfTime: 0.01 });
  });

  it('every handler answers or refuses with a coded error, whoever calls with whatever', async () => {
    const h = createHarness();
    const names = Object.keys(API_HANDLERS) as ApiName[];
    await checkProperty('handlers', fc.asyncProperty(fc.constantFrom(...names), fc.constantFrom('alice', 'bob', null), anyInput, async (name, uid, data) => {
      try {
        await h.call(name, uid, data);
      } catch (err) {
        if (!(err instanceof LifeboatError)) throw err;
      }
    }), { runs: 300, shareOfTime: 0.05 });
  });
});
