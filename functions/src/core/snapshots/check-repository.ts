/**
 * `check` (restic's `check` and `repair index`; docs/invariants.md, "Check and repair"): walks a
 * user's snapshot records, their manifests (root, tree nodes, segments, chat watermarks), the
 * chunk index and the blobs they name, and reports every missing or corrupt object by what it
 * breaks: which snapshots lost data through it, which items, and which chunk-index entries rely on
 * it (each would make the next backup of its chunk take the chunk as stored and write a snapshot
 * without it). Without `readDataPercent` it reads every manifest object (hash-checked, parsed) and
 * checks that every content blob exists; with it, it also re-reads that share of the content
 * blobs (hash, plaintext size, pack records). With `repair` it then deals with what it found
 * (`check-repair.ts`).
 *
 * Memory: sets of ids per user (the blobs listed, each manifest object and content blob once,
 * with the problems below it), one node per tree level and one segment at a time; never a
 * snapshot's items. What snapshots share is read once.
 *
 * Safe while backups and GC run: the walk only reads. A finding that a concurrent GC or backup
 * may have caused (a snapshot forgotten and swept meanwhile, an entry deleted, a blob written
 * since the listing) is checked again before it is reported.
 */
import { z } from 'zod';
import type { BlobStore, CallOptions, Clock, JobStore, KeyRing, Logger } from '../../ports';
import { ContentStore } from '../content-store';
import { codeOf, hasCode, lifeboatError, messageOf, wrapError } from '../errors';
import { blobKey } from '../keys';
import { ChunkIndexEntry, Snapshot, type ManifestItem, type NodeEntry, type SegmentEntry } from '../model';
import {
  BLOB_PROBLEMS, CHECK_LISTED_ITEMS, MANIFEST_DAMAGE, type CheckProblem, type CheckProblemKind, type CheckReport, type DamagedSnapshot, type UserCheckReport,
} from './check-report';
import { repairRepository, type RepairContext } from './check-repair';
import { DEFAULT_GC_LEASE_MS } from './gc-lease';
import { readNode } from './manifest-tree';
import { measureBlob } from './measure-blob';
import { openManifest, readSegment } from './snapshot-manifest';
import { Watermarks } from './watermarks';

export interface CheckDeps {
  store: JobStore;
  blobs: BlobStore;
  keyRing?: KeyRing;
  clock: Clock;
  logger?: Logger;
  /**
   * Every user with stored data, for a check of all users (no `uid`). The embedded runtime lists
   * them from its store; on Firebase the admin surface fans out one task per user instead.
   * @default none: a uid is required
   */
  users?: (options: CallOptions) => AsyncIterable<string>;
}

/** Where a check is, for a progress bar. */
export interface CheckProgress {
  uid: string;
  phase: 'listing' | 'snapshots' | 'index' | 'repair';
  /** Snapshots or index entries walked so far; blobs listed while listing. */
  done: number;
  /** Snapshots or index entries in all, once known. */
  total?: number;
  problems: number;
}

export interface CheckOptions extends CallOptions {
  /** Share of content blobs to re-read (hash, size, pack records), 0 to 100. @default 0: existence only */
  readDataPercent?: number;
  /** Drop index entries that rely on lost data, quarantine corrupt blobs and mark damaged snapshots. @default false */
  repair?: boolean;
  /** Picks the blobs a partial `readDataPercent` re-reads. @default Math.random */
  random?: () => number;
  /** Lifetime of the repair's lease (renewed while it works). @default DEFAULT_GC_LEASE_MS */
  leaseMs?: number;
  onProgress?: (progress: CheckProgress) => void;
}

/** A uid a check takes (it names blob prefixes): 1 to 128 of `A-Z a-z 0-9 . _ -`. */
export const CheckUid = z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, { error: 'must be 1 to 128 of A-Z a-z 0-9 . _ -' });
const Options = z.object({
  readDataPercent: z.number().min(0).max(100).optional(),
  repair: z.boolean().optional(),
  leaseMs: z.number().int().min(3).optional(),
});

/**
 * Checks one user's repository, or every user's when `uid` is undefined (`deps.users` lists them).
 * The task entry point on Firebase is {@link checkUser}, one task per user.
 *
 * @throws LifeboatError `invalid-argument` for a bad uid or option, or no uid without `deps.users`;
 *   see {@link checkUser} for the rest.
 */
export async function checkRepository(deps: CheckDeps, uid: string | undefined, options: CheckOptions = {}): Promise<CheckReport> {
  const signalOpt = options.signal ? { signal: options.signal } : {};
  let uids: AsyncIterable<string>;
  if (uid !== undefined) uids = (async function* () { yield uid; })();
  else if (deps.users) uids = deps.users(signalOpt);
  else throw lifeboatError('invalid-argument', 'check: name a user (uid); this runtime cannot list its users');
  const users: UserCheckReport[] = [];
  for await (const one of uids) {
    try {
      users.push(await checkUser(deps, one, options));
    } catch (err) {
      // An abort is the caller's own; anything else is named with the user it stopped at.
      throw hasCode(err, 'cancelled') || uid !== undefined ? err : wrapError(err, 'check stopped', { uid: one });
    }
  }
  return { ok: users.every((u) => u.ok), users };
}

/**
 * Checks (and with `repair`, repairs) one user's repository.
 *
 * @throws LifeboatError `invalid-argument` for a bad uid or option; `failed-precondition` when the
 *   user's data key cannot be unwrapped (every blob would read as corrupt: fix the master key
 *   first); `cancelled` when aborted (a repair releases its lease first); a storage error as it is.
 */
export async function checkUser(deps: CheckDeps, uid: string, options: CheckOptions = {}): Promise<UserCheckReport> {
  const parsedUid = CheckUid.safeParse(uid);
  if (!parsedUid.success) throw lifeboatError('invalid-argument', `check: uid ${z.prettifyError(parsedUid.error)}`);
  const parsed = Options.safeParse({ readDataPercent: options.readDataPercent, repair: options.repair, leaseMs: options.leaseMs });
  if (!parsed.success) throw lifeboatError('invalid-argument', `check: ${z.prettifyError(parsed.error)}`);
  const signalOpt = options.signal ? { signal: options.signal } : {};
  const walk = new RepositoryWalk(deps, uid, options);
  const report = await walk.run();
  if (options.repair && (report.problems.length > 0 || walk.healedMarks.length > 0)) {
    const context: RepairContext = { entries: walk.entryCauses, quarantinable: walk.quarantinable, healedMarks: walk.healedMarks };
    report.repair = await repairRepository(deps, uid, report, context, {
      leaseMs: options.leaseMs ?? DEFAULT_GC_LEASE_MS,
      ...signalOpt,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
  } else if (options.repair) {
    report.repair = { droppedIndexEntries: 0, quarantinedBlobs: 0, markedSnapshots: 0, clearedMarks: 0, alreadyFixed: 0, stoppedEarly: false };
  }
  report.ok = report.problems.every((p) => !p.remains);
  return report;
}

/** A read that may find the object lost: `missing` (not-found) or `corrupt` (data-loss); anything else is thrown. */
async function attempt<T>(read: () => Promise<T>): Promise<{ value: T } | { lost: 'missing' | 'corrupt'; message: string }> {
  try {
    return { value: await read() };
  } catch (err) {
    if (hasCode(err, 'not-found')) return { lost: 'missing', message: messageOf(err) };
    if (codeOf(err) === 'data-loss') return { lost: 'corrupt', message: messageOf(err) };
    throw err;
  }
}

/** The problems found under a manifest object, and the objects below it (itself included). */
interface Walked {
  problems: readonly number[];
  objects: number;
}

const SNAPSHOT_PAGE = 100;
const INDEX_PAGE = 500;
const NO_PROBLEMS: readonly number[] = [];
/** A content blob found fine. */
const OK = -1;

class RepositoryWalk {
  private readonly content: ContentStore;
  private readonly signalOpt: CallOptions;
  private readonly share: number;
  private readonly random: () => number;
  private readonly problems: CheckProblem[] = [];
  private readonly byKey = new Map<string, number>();
  /** Manifest objects walked (roots, nodes, segments, watermarks), with what was found below. */
  private readonly walked = new Map<string, Walked>();
  /** Content blobs checked: a problem's index, or OK. */
  private readonly contentOutcome = new Map<string, number>();
  /** Records of packs that were re-read. */
  private readonly records = new Map<string, number>();
  /** Blobs the listing found. */
  private readonly present = new Set<string>();
  /** Segments that are a chunk's result: their chunk id (checked against the entries that name them). */
  private readonly segmentChunk = new Map<string, string>();
  private readonly indexedResults = new Set<string>();
  /** Format-2 roots: the items their trees hold (checked against each snapshot's totals). */
  private readonly rootItems = new Map<string, number>();
  /** Index entries with problems: the result they named, and the problems (for the repair). */
  readonly entryCauses = new Map<string, { resultRef: string; problems: number[] }>();
  /** Problems whose blob failed its hash or decryption: a repair moves it away so it can be stored again. */
  readonly quarantinable = new Set<number>();
  /** Snapshots marked `manifestDamaged` whose manifest was read whole without a problem. */
  readonly healedMarks: string[] = [];
  private readonly report: UserCheckReport;

  constructor(
    private readonly deps: CheckDeps,
    private readonly uid: string,
    private readonly options: CheckOptions,
  ) {
    this.content = new ContentStore(deps.blobs, deps.keyRing);
    this.signalOpt = options.signal ? { signal: options.signal } : {};
    this.share = (options.readDataPercent ?? 0) / 100;
    this.random = options.random ?? Math.random;
    this.report = {
      uid,
      ok: true,
      checkedAt: deps.clock.now(),
      readDataPercent: options.readDataPercent ?? 0,
      snapshots: 0,
      indexEntries: 0,
      listedBlobs: 0,
      manifestObjects: 0,
      contentBlobs: 0,
      contentRead: 0,
      unindexedResults: 0,
      problems: this.problems,
      damagedSnapshots: [],
      repair: null,
    };
  }

  private progress(phase: 'listing' | 'snapshots' | 'index', done: number, total?: number): void {
    this.options.onProgress?.({ uid: this.uid, phase, done, ...(total !== undefined ? { total } : {}), problems: this.problems.length });
  }

  async run(): Promise<UserCheckReport> {
    // Listed first: a blob written after it (a backup running meanwhile) is looked up on its own.
    for await (const info of this.deps.blobs.list(`users/${this.uid}/blobs/`, this.signalOpt)) {
      this.present.add(info.key.slice(info.key.lastIndexOf('/') + 1));
      this.report.listedBlobs += 1;
      if (this.report.listedBlobs % 1000 === 0) this.progress('listing', this.report.listedBlobs);
    }
    if (this.deps.keyRing && this.present.size > 0) {
      try {
        await this.deps.keyRing.dataKey(this.uid, this.signalOpt);
      } catch (err) {
        throw lifeboatError('failed-precondition', `check of ${this.uid} stopped: the user's data key cannot be unwrapped, so every blob would read as corrupt; check the master key (${messageOf(err)})`, { cause: err });
      }
    }
    await this.walkSnapshots();
    await this.walkIndex();
    for (const ref of this.segmentChunk.keys()) if (!this.indexedResults.has(ref)) this.report.unindexedResults += 1;
    await this.confirm();
    this.report.ok = this.problems.length === 0;
    return this.report;
  }

  private problem(kind: CheckProblemKind, ref: string, message: string, itemCount = 0): number {
    const key = `${kind}:${ref}`;
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    const id = this.problems.push({ kind, ref, message, snapshots: [], items: [], itemCount, indexEntries: [], remains: true }) - 1;
    this.byKey.set(key, id);
    return id;
  }

  private addItems(id: number, items: readonly ManifestItem[]): void {
    const problem = this.problems[id] as CheckProblem;
    problem.itemCount += items.length;
    for (const item of items) {
      if (problem.items.length >= CHECK_LISTED_ITEMS) break;
      problem.items.push({ type: item.type, sourceId: item.sourceId });
    }
  }

  /** A manifest object that could not be read: missing or corrupt (and if its bytes fail their hash, quarantinable). */
  private async lostObject(kind: 'manifest' | 'node' | 'segment' | 'watermarks', ref: string, lost: { lost: 'missing' | 'corrupt'; message: string }, itemCount: number): Promise<Walked> {
    const id = this.problem(`${lost.lost}-${kind}`, ref, lost.message, itemCount);
    if (lost.lost === 'corrupt' && (await this.bytesFail(ref))) this.quarantinable.add(id);
    const walked = { problems: [id], objects: 1 };
    this.walked.set(ref, walked);
    return walked;
  }

  /** Whether the blob's bytes themselves fail (hash, decryption), rather than holding content that does not parse. */
  private async bytesFail(ref: string): Promise<boolean> {
    const read = await attempt(() => measureBlob(this.content, this.uid, ref, this.signalOpt));
    return 'lost' in read;
  }

  private async exists(hash: string): Promise<boolean> {
    return this.present.has(hash) || this.deps.blobs.exists(blobKey(this.uid, hash), this.signalOpt);
  }

  private async walkSnapshots(): Promise<void> {
    let cursor: string | undefined;
    let done = 0;
    do {
      const page = await this.deps.store.listSnapshots({ uid: this.uid, limit: SNAPSHOT_PAGE, ...(cursor ? { cursor } : {}) }, this.signalOpt);
      for (const raw of page.items) {
        this.report.snapshots += 1;
        await this.walkSnapshot(raw);
        this.progress('snapshots', ++done);
      }
      cursor = page.nextCursor;
    } while (cursor);
  }

  private async walkSnapshot(raw: Snapshot): Promise<void> {
    const id = typeof raw.id === 'string' ? raw.id : String(raw.id);
    const parsed = Snapshot.safeParse(raw);
    const found = new Set<number>();
    let objects = 0;
    if (!parsed.success) {
      found.add(this.problem('corrupt-snapshot-record', id, `snapshot record ${id} is corrupt: ${z.prettifyError(parsed.error).slice(0, 300)}`));
    } else {
      const snapshot = parsed.data;
      const walked = await this.walkRoot(snapshot);
      objects = walked.objects;
      for (const p of walked.problems) found.add(p);
      const items = this.rootItems.get(snapshot.manifestRef);
      if (items !== undefined && items !== snapshot.totals.items) {
        found.add(this.problem('corrupt-snapshot-record', id, `snapshot record ${id} names manifest ${snapshot.manifestRef}, whose trees hold ${items} items; the record counts ${snapshot.totals.items}`));
      }
    }
    if (found.size === 0) {
      if (parsed.success && parsed.data.health?.manifestDamaged === true) this.healedMarks.push(id);
      return;
    }
    for (const p of found) (this.problems[p] as CheckProblem).snapshots.push(id);
    this.report.damagedSnapshots.push({
      id,
      deviceId: typeof raw.deviceId === 'string' ? raw.deviceId : '',
      problems: found.size,
      manifestDamaged: [...found].some((p) => MANIFEST_DAMAGE.has((this.problems[p] as CheckProblem).kind)),
      checkedBlobs: objects,
    });
  }

  private async walkRoot(snapshot: Snapshot): Promise<Walked> {
    const ref = snapshot.manifestRef;
    const cached = this.walked.get(ref);
    if (cached) return cached;
    const opened = await attempt(() => openManifest(this.content, snapshot, this.signalOpt));
    this.report.manifestObjects += 1;
    if ('lost' in opened) return this.lostObject('manifest', ref, opened, snapshot.totals.items);
    const found = new Set<number>();
    let objects = 1;
    const add = (w: Walked) => {
      for (const p of w.problems) found.add(p);
      objects += w.objects;
    };
    const manifest = opened.value;
    if (manifest.format === 1) {
      add(await this.checkItems(manifest.items));
    } else {
      let items = 0;
      for (const { type, tree, watermarks } of manifest.root.types) {
        if (watermarks) add(await this.walkWatermarks(watermarks));
        if (!tree) continue;
        items += tree.items;
        add(await this.walkNode(tree, type));
      }
      this.rootItems.set(ref, items);
    }
    const walked = { problems: found.size === 0 ? NO_PROBLEMS : [...found], objects };
    this.walked.set(ref, walked);
    return walked;
  }

  private async walkNode(entry: NodeEntry, type: string): Promise<Walked> {
    const cached = this.walked.get(entry.ref);
    if (cached) return cached;
    const read = await attempt(() => readNode(this.content, this.uid, entry, this.signalOpt));
    this.report.manifestObjects += 1;
    if ('lost' in read) return this.lostObject('node', entry.ref, { ...read, message: `${type}: ${read.message}` }, entry.items);
    const found = new Set<number>();
    let objects = 1;
    const add = (w: Walked) => {
      for (const p of w.problems) found.add(p);
      objects += w.objects;
    };
    const node = read.value;
    // The depth is the tree's level, at most 16 by the node schema: recursion is bounded.
    if (node.level === 1) for (const segment of node.entries as SegmentEntry[]) add(await this.walkSegment(segment.ref, segment.items));
    else for (const child of node.entries as NodeEntry[]) add(await this.walkNode(child, type));
    const walked = { problems: found.size === 0 ? NO_PROBLEMS : [...found], objects };
    this.walked.set(entry.ref, walked);
    return walked;
  }

  /** A segment: a chunk result (from a tree, or named only by the index) or a carried one. */
  private async walkSegment(ref: string, itemCount: number): Promise<Walked> {
    const cached = this.walked.get(ref);
    if (cached) return cached;
    const read = await attempt(() => readSegment(this.content, this.uid, ref, this.signalOpt));
    this.report.manifestObjects += 1;
    if ('lost' in read) return this.lostObject('segment', ref, read, itemCount);
    if (read.value.chunkId) this.segmentChunk.set(ref, read.value.chunkId);
    const inner = await this.checkItems(read.value.items);
    const walked = { problems: inner.problems, objects: inner.objects + 1 };
    this.walked.set(ref, walked);
    return walked;
  }

  private async walkWatermarks(ref: string): Promise<Walked> {
    const cached = this.walked.get(ref);
    if (cached) return cached;
    const read = await attempt(async () => {
      const bytes = await this.content.get(this.uid, ref, this.signalOpt);
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        value = null;
      }
      if (!Watermarks.safeParse(value).success) throw lifeboatError('data-loss', `watermarks ${ref} do not parse`);
    });
    this.report.manifestObjects += 1;
    if ('lost' in read) return this.lostObject('watermarks', ref, read, 0);
    const walked = { problems: NO_PROBLEMS, objects: 1 };
    this.walked.set(ref, walked);
    return walked;
  }

  /** The content blobs of a run of items (a segment, a format-1 manifest): each checked once per run. */
  private async checkItems(items: readonly ManifestItem[]): Promise<Walked> {
    const byBlob = new Map<string, ManifestItem[]>();
    for (const item of items) {
      if (!item.blob) continue;
      const list = byBlob.get(item.blob);
      if (list) list.push(item);
      else byBlob.set(item.blob, [item]);
    }
    const found = new Set<number>();
    for (const [blob, list] of byBlob) {
      let outcome = this.contentOutcome.get(blob);
      if (outcome === undefined) {
        outcome = await this.checkContent(blob, list);
        this.contentOutcome.set(blob, outcome);
      }
      if (outcome !== OK) {
        found.add(outcome);
        this.addItems(outcome, list);
        continue;
      }
      const records = this.records.get(blob);
      const outside = records === undefined ? [] : list.filter((i) => i.part !== undefined && i.part >= records);
      if (outside.length > 0) {
        const id = this.problem('missing-part', blob, `pack ${blob} has ${records} records; items point past them`);
        found.add(id);
        this.addItems(id, outside);
      }
    }
    return { problems: found.size === 0 ? NO_PROBLEMS : [...found], objects: byBlob.size };
  }

  /** One content blob, the first time it is named: exists, and for a share re-read in full. */
  private async checkContent(blob: string, items: readonly ManifestItem[]): Promise<number> {
    this.report.contentBlobs += 1;
    // A re-read check is never vacuous: with any share, at least the first blob is read.
    const reread = this.share >= 1 || (this.share > 0 && (this.report.contentRead === 0 || this.random() < this.share));
    if (!reread) return (await this.exists(blob)) ? OK : this.problem('missing-blob', blob, `blob ${blob} is missing [uid=${this.uid}]`);
    this.report.contentRead += 1;
    const read = await attempt(() => measureBlob(this.content, this.uid, blob, this.signalOpt));
    if ('lost' in read) {
      const id = this.problem(`${read.lost}-blob`, blob, read.message);
      if (read.lost === 'corrupt') this.quarantinable.add(id);
      return id;
    }
    const expected = items.find((i) => i.blobSize !== undefined)?.blobSize;
    if (expected !== undefined && expected !== read.value.byteLength) {
      return this.problem('size-mismatch', blob, `blob ${blob} has ${read.value.byteLength} bytes, the manifest says ${expected}`);
    }
    if (items.some((i) => i.part !== undefined)) this.records.set(blob, read.value.records);
    return OK;
  }

  private async walkIndex(): Promise<void> {
    let cursor: string | undefined;
    let done = 0;
    do {
      const page = await this.deps.store.listChunkIndex({ uid: this.uid, limit: INDEX_PAGE, ...(cursor ? { cursor } : {}) }, this.signalOpt);
      for (const raw of page.items) {
        this.report.indexEntries += 1;
        await this.walkEntry(raw);
        if (++done % 100 === 0) this.progress('index', done);
      }
      cursor = page.nextCursor;
    } while (cursor);
    this.progress('index', done);
  }

  private async walkEntry(raw: ChunkIndexEntry): Promise<void> {
    const key = String(raw.key);
    const parsed = ChunkIndexEntry.safeParse(raw);
    if (!parsed.success) {
      const id = this.problem('corrupt-index-entry', key, `chunk-index entry ${key} is corrupt: ${z.prettifyError(parsed.error).slice(0, 300)}`);
      this.problems[id]?.indexEntries.push(key);
      this.entryCauses.set(key, { resultRef: typeof raw.resultRef === 'string' ? raw.resultRef : '', problems: [id] });
      return;
    }
    const entry = parsed.data;
    this.indexedResults.add(entry.resultRef);
    const walked = await this.walkSegment(entry.resultRef, entry.items);
    const causes = [...walked.problems];
    const chunkId = key.slice(key.lastIndexOf(':') + 1);
    const named = this.segmentChunk.get(entry.resultRef);
    if (named !== undefined && named !== chunkId) {
      causes.push(this.problem('corrupt-index-entry', key, `chunk-index entry ${key} names result ${entry.resultRef}, which is chunk ${named}'s`));
    }
    if (causes.length === 0) return;
    for (const p of causes) this.problems[p]?.indexEntries.push(key);
    this.entryCauses.set(key, { resultRef: entry.resultRef, problems: causes });
  }

  /**
   * Looks at each finding again, so that a GC or backup running meanwhile is not reported as
   * damage: a snapshot forgotten (and its blobs swept) since it was listed no longer counts, nor
   * an entry deleted or replaced, nor a blob missing from the listing that has been written since.
   */
  private async confirm(): Promise<void> {
    if (this.problems.length === 0) return;
    const gone = new Set<string>();
    for (const damaged of this.report.damagedSnapshots) {
      if (!(await this.deps.store.getSnapshot(damaged.id, this.signalOpt))) gone.add(damaged.id);
    }
    const entryKeys = [...this.entryCauses.keys()];
    for (let i = 0; i < entryKeys.length; i += INDEX_PAGE) {
      const keys = entryKeys.slice(i, i + INDEX_PAGE);
      const now = await this.deps.store.getChunkIndex(this.uid, keys, this.signalOpt);
      keys.forEach((key, j) => {
        const cause = this.entryCauses.get(key);
        const current = now[j];
        if (!current || (cause && typeof current.resultRef === 'string' && current.resultRef !== cause.resultRef)) this.entryCauses.delete(key);
      });
    }
    const stale = new Set<number>();
    for (const [id, problem] of this.problems.entries()) {
      problem.snapshots = problem.snapshots.filter((s) => !gone.has(s));
      problem.indexEntries = problem.indexEntries.filter((k) => this.entryCauses.has(k));
      if (problem.snapshots.length === 0 && problem.indexEntries.length === 0) stale.add(id);
      else if (problem.kind.startsWith('missing-') && BLOB_PROBLEMS.has(problem.kind) && (await this.deps.blobs.exists(blobKey(this.uid, problem.ref), this.signalOpt))) stale.add(id);
    }
    if (stale.size === 0 && gone.size === 0) return;
    // Renumbers what is left; the repair's context follows the new numbers.
    const renumber = new Map<number, number>();
    const kept: CheckProblem[] = [];
    for (const [id, problem] of this.problems.entries()) {
      if (stale.has(id)) continue;
      renumber.set(id, kept.push(problem) - 1);
    }
    this.problems.length = 0;
    this.problems.push(...kept);
    const quarantinable = [...this.quarantinable].flatMap((id) => (renumber.has(id) ? [renumber.get(id) as number] : []));
    this.quarantinable.clear();
    for (const id of quarantinable) this.quarantinable.add(id);
    for (const [key, cause] of this.entryCauses) {
      const problems = cause.problems.flatMap((id) => (renumber.has(id) ? [renumber.get(id) as number] : []));
      if (problems.length === 0) this.entryCauses.delete(key);
      else cause.problems = problems;
    }
    const before = new Map(this.report.damagedSnapshots.map((d) => [d.id, d]));
    const after = new Map<string, DamagedSnapshot>();
    for (const problem of kept) {
      for (const id of problem.snapshots) {
        const prior = before.get(id);
        const damaged = after.get(id) ?? { id, deviceId: prior?.deviceId ?? '', problems: 0, manifestDamaged: false, checkedBlobs: prior?.checkedBlobs ?? 0 };
        damaged.problems += 1;
        if (MANIFEST_DAMAGE.has(problem.kind)) damaged.manifestDamaged = true;
        after.set(id, damaged);
      }
    }
    this.report.damagedSnapshots = [...after.values()];
  }
}
