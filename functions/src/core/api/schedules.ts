import type { EngineDeps } from '../deps';
import { assertEndToEndCompatible } from '../e2e-opaque';
import { lifeboatError } from '../errors';
import { newJobId } from '../ids';
import { assertOwner } from '../jobs';
import { withMediaMode } from '../media-mode';
import type { Schedule } from '../model';
import { scopedScheduleId } from '../scoped-ids';
import { parseCron } from '../schedules/cron';
import { nextRunAt } from '../schedules/next-run';
import { assertTimeZone } from '../schedules/zoned-time';
import { parseInput, requireUid, type CallableRequest } from './callable';
import { ListSchedulesInput, ScheduleRef, SetScheduleInput } from '@lifeboat/protocol';

/** At most this many schedules per user: each costs a dispatcher read per run. */
export const MAX_SCHEDULES_PER_USER = 20;

export async function setSchedule(request: CallableRequest, deps: EngineDeps): Promise<{ schedule: Schedule }> {
  const uid = requireUid(request);
  const input = parseInput(SetScheduleInput, request.data, 'setSchedule');
  try {
    assertTimeZone(input.timeZone);
  } catch {
    throw lifeboatError('invalid-argument', `setSchedule: unknown time zone ${input.timeZone}`);
  }
  if (input.cron) parseCron(input.cron);
  assertEndToEndCompatible(input.options, 'setSchedule');
  const options = withMediaMode(input.options, deps.mediaMode, 'setSchedule');
  const unsupported = input.types.filter((t) => !deps.strategies[t]);
  if (unsupported.length > 0) throw lifeboatError('unimplemented', `backup type not supported yet: ${unsupported.join(', ')}`);
  const now = deps.clock.now();
  const id = input.scheduleId === undefined ? newJobId() : await ownScheduleId(deps, uid, input.scheduleId);
  const existing = await deps.store.getSchedule(id);
  if (existing) assertOwner(existing, uid, 'schedule', id);
  else if ((await deps.store.listSchedules(uid)).length >= MAX_SCHEDULES_PER_USER) {
    throw lifeboatError('resource-exhausted', `a user may have at most ${MAX_SCHEDULES_PER_USER} schedules`);
  }
  const base: Schedule = {
    id,
    uid,
    deviceId: input.deviceId,
    kind: input.kind,
    types: input.types,
    options,
    timeZone: input.timeZone,
    everyHours: input.everyHours ?? null,
    cron: input.cron ?? null,
    enabled: input.enabled,
    nextRunAt: 0,
    activeJobId: existing?.activeJobId ?? null,
    lastRunAt: existing?.lastRunAt ?? null,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  const schedule = { ...base, nextRunAt: nextRunAt(base, now) };
  await deps.store.runTransaction(async (tx) => {
    const current = await tx.getSchedule(id);
    if (current && current.uid !== uid) throw lifeboatError('permission-denied', `schedule ${id} belongs to another user`);
    tx.setSchedule(schedule);
  });
  return { schedule };
}

/**
 * The stored id of the caller's schedule named `scheduleId`: the id itself when it is the
 * caller's own schedule (stored before ids were per user, or the id a set returned), else the id
 * derived from the user and it (core/scoped-ids.ts), so another user's schedule under the same
 * name never blocks this one.
 */
async function ownScheduleId(deps: EngineDeps, uid: string, scheduleId: string): Promise<string> {
  const own = await deps.store.getSchedule(scheduleId);
  return own?.uid === uid ? scheduleId : scopedScheduleId(uid, scheduleId);
}

export async function listSchedules(request: CallableRequest, deps: EngineDeps): Promise<{ schedules: Schedule[] }> {
  const uid = requireUid(request);
  parseInput(ListSchedulesInput, request.data, 'listSchedules');
  return { schedules: await deps.store.listSchedules(uid) };
}

export async function deleteSchedule(request: CallableRequest, deps: EngineDeps): Promise<{ deleted: string }> {
  const uid = requireUid(request);
  const { scheduleId } = parseInput(ScheduleRef, request.data, 'deleteSchedule');
  // The caller's schedule by its stored id, else by the name it was set with.
  let target = await deps.store.getSchedule(scheduleId);
  if (target?.uid !== uid) {
    const scoped = await deps.store.getSchedule(scopedScheduleId(uid, scheduleId));
    if (scoped?.uid === uid) target = scoped;
  }
  const { id } = assertOwner(target, uid, 'schedule', scheduleId);
  await deps.store.runTransaction(async (tx) => tx.deleteSchedule(id));
  return { deleted: id };
}
