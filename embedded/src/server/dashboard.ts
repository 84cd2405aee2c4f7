/**
 * The embedded runtime's admin dashboard: `GET /dashboard` is a static page (no data in it) that
 * polls `GET /dashboard/data` every 2 seconds with an admin token (`lifeboat token --admin`, or
 * the link `lifeboat serve` prints) and shows every user's recent jobs with their progress,
 * pause reasons and errors, the recent snapshots with their health, and the task queue (due,
 * waiting, retrying, running, dropped with the error). User tokens are refused: the data spans
 * users. On Firebase the same is in the console (Firestore collections, Cloud Tasks queues, logs).
 */
import type { BackupJob, Snapshot } from '@lifeboat/functions/core';
import type { SqliteJobStore } from '../adapters/sqlite-job-store';
import type { QueueOverview, SqliteTaskQueue } from '../adapters/sqlite-task-queue';

/** What the dashboard reads: the runtime's SQLite store and queue. */
export interface DashboardSource {
  store: Pick<SqliteJobStore, 'recentJobs' | 'recentSnapshots' | 'jobStatusCounts'>;
  queue: Pick<SqliteTaskQueue, 'overview'>;
}

export interface DashboardData {
  generatedAt: number;
  jobCounts: Partial<Record<BackupJob['status'], number>>;
  jobs: Array<
    Pick<BackupJob, 'id' | 'uid' | 'deviceId' | 'types' | 'trigger' | 'status' | 'phase' | 'pauseReason' | 'attempts' | 'snapshotId' | 'createdAt' | 'updatedAt'> & {
      progress: Pick<BackupJob['progress'], 'processedItems' | 'totalItems' | 'skippedItems' | 'bytesUploaded' | 'bytesTotal' | 'bytesStored' | 'processedChunks' | 'totalChunks'>;
      lastError: { code: string; message: string } | null;
    }
  >;
  snapshots: Array<Pick<Snapshot, 'id' | 'uid' | 'deviceId' | 'jobId' | 'createdAt' | 'totals' | 'health'>>;
  queue: QueueOverview;
}

/** The dashboard's view of the runtime now: the newest 50 jobs and 20 snapshots. */
export function dashboardData({ store, queue }: DashboardSource, now: number): DashboardData {
  return {
    generatedAt: now,
    jobCounts: store.jobStatusCounts(),
    jobs: store.recentJobs(50).map((j) => ({
      id: j.id,
      uid: j.uid,
      deviceId: j.deviceId,
      types: j.types,
      trigger: j.trigger,
      status: j.status,
      phase: j.phase,
      pauseReason: j.pauseReason,
      attempts: j.attempts,
      snapshotId: j.snapshotId,
      createdAt: j.createdAt,
      updatedAt: j.updatedAt,
      progress: {
        processedItems: j.progress.processedItems,
        totalItems: j.progress.totalItems,
        skippedItems: j.progress.skippedItems,
        bytesUploaded: j.progress.bytesUploaded,
        bytesTotal: j.progress.bytesTotal,
        bytesStored: j.progress.bytesStored,
        processedChunks: j.progress.processedChunks,
        totalChunks: j.progress.totalChunks,
      },
      lastError: j.lastError ? { code: j.lastError.code, message: j.lastError.message } : null,
    })),
    snapshots: store.recentSnapshots(20).map((s) => ({ id: s.id, uid: s.uid, deviceId: s.deviceId, jobId: s.jobId, createdAt: s.createdAt, totals: s.totals, health: s.health })),
    queue: queue.overview(10),
  };
}

/**
 * The page. Everything it shows comes from `/dashboard/data` and is written with `textContent`,
 * never as HTML, so a job's error message or a device id cannot inject markup.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeboat dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2329; background: #fafbfc; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  #status { color: #5b6770; margin-bottom: 1rem; } .error { color: #b42318; }
  table { border-collapse: collapse; width: 100%; background: #fff; } th, td { padding: .3rem .5rem; border-bottom: 1px solid #e4e7eb; text-align: left; vertical-align: top; }
  th { font-weight: 600; color: #5b6770; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } td.empty { color: #5b6770; }
  .bar { width: 120px; height: 8px; background: #e4e7eb; border-radius: 4px; overflow: hidden; display: inline-block; vertical-align: middle; }
  .bar > span { display: block; height: 100%; background: #2e7d32; }
  .pill { padding: 0 .4rem; border-radius: 8px; background: #e4e7eb; white-space: nowrap; } .s-failed { background: #fde2e1; } .s-completed { background: #dcf2dc; } .s-running { background: #dde8fb; } .s-paused { background: #fff1cc; }
  .counts span { margin-right: 1rem; } code { font-size: 12px; }
</style>
</head>
<body>
<h1>Lifeboat</h1>
<div id="status">Loading…</div>
<div class="counts" id="counts"></div>
<h2>Jobs</h2>
<table><thead><tr><th>Job</th><th>User / device</th><th>Types</th><th>Status</th><th>Items</th><th>Uploaded</th><th>Stored</th><th>Updated</th><th>Error</th></tr></thead><tbody id="jobs"></tbody></table>
<h2>Task queue</h2>
<div class="counts" id="queue"></div>
<table><thead><tr><th>Dropped task</th><th>Queue</th><th>Attempts</th><th>When</th><th>Error</th></tr></thead><tbody id="dropped"></tbody></table>
<h2>Snapshots</h2>
<table><thead><tr><th>Snapshot</th><th>User / device</th><th>Items</th><th>Original</th><th>Stored (items)</th><th>Created</th><th>Health</th></tr></thead><tbody id="snapshots"></tbody></table>
<script>
(() => {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') || sessionStorage.getItem('lifeboat-admin-token');
  if (token) sessionStorage.setItem('lifeboat-admin-token', token);
  history.replaceState(null, '', location.pathname);
  const $ = (id) => document.getElementById(id);
  const bytes = (n) => n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(2) + ' MiB';
  const time = (ms) => new Date(ms).toLocaleString();
  const cell = (row, text, cls) => { const td = row.insertCell(); td.textContent = text == null ? '' : String(text); if (cls) td.className = cls; return td; };
  const fill = (id, list, render) => {
    const body = $(id); body.replaceChildren();
    for (const x of list) render(body.insertRow(), x);
    if (list.length === 0) { const td = body.insertRow().insertCell(); td.colSpan = body.parentElement.tHead.rows[0].cells.length; td.className = 'empty'; td.textContent = 'none'; }
  };
  const counts = (id, entries) => { const el = $(id); el.replaceChildren(); for (const [k, v] of entries) { const s = document.createElement('span'); s.textContent = k + ': ' + v; el.append(s); } };
  async function refresh() {
    if (!token) { $('status').textContent = 'Open the link lifeboat serve printed, or add #token=<lifeboat token --admin> to this address.'; return; }
    try {
      const res = await fetch('/dashboard/data', { headers: { authorization: 'Bearer ' + token } });
      const body = await res.json();
      if (!res.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + res.status);
      $('status').textContent = 'Updated ' + time(body.generatedAt) + ' (every 2 s)';
      $('status').className = '';
      counts('counts', Object.entries(body.jobCounts));
      fill('jobs', body.jobs, (r, j) => {
        cell(r, j.id).title = j.trigger + ', attempts ' + j.attempts + (j.snapshotId ? ', ' + j.snapshotId : '');
        cell(r, j.uid + ' / ' + j.deviceId);
        cell(r, j.types.join(', '));
        const st = cell(r, ''); const pill = document.createElement('span'); pill.className = 'pill s-' + j.status;
        pill.textContent = j.status + ' · ' + j.phase + (j.pauseReason ? ' · ' + j.pauseReason : ''); st.append(pill);
        const it = cell(r, ''); const bar = document.createElement('span'); bar.className = 'bar'; const fillBar = document.createElement('span');
        fillBar.style.width = (j.progress.totalItems ? Math.round(100 * j.progress.processedItems / j.progress.totalItems) : 0) + '%'; bar.append(fillBar);
        it.append(bar, ' ' + j.progress.processedItems + '/' + j.progress.totalItems + (j.progress.skippedItems ? ' (' + j.progress.skippedItems + ' skipped)' : ''));
        cell(r, bytes(j.progress.bytesUploaded) + ' of ' + bytes(j.progress.bytesTotal), 'num');
        cell(r, bytes(j.progress.bytesStored), 'num');
        cell(r, time(j.updatedAt));
        cell(r, j.lastError ? j.lastError.code + ': ' + j.lastError.message : '', 'error');
      });
      const q = body.queue;
      counts('queue', [['due', q.due], ['waiting', q.waiting], ['retrying', q.retrying], ['running', q.running], ['done', q.done]]);
      fill('dropped', q.dropped, (r, t) => { cell(r, t.id); cell(r, t.queue); cell(r, t.attempts, 'num'); cell(r, time(t.at)); cell(r, t.lastError, 'error'); });
      fill('snapshots', body.snapshots, (r, s) => {
        cell(r, s.id); cell(r, s.uid + ' / ' + s.deviceId); cell(r, s.totals.items + (s.totals.skippedItems ? ' (' + s.totals.skippedItems + ' skipped)' : ''), 'num');
        cell(r, bytes(s.totals.originalBytes), 'num'); cell(r, bytes(s.totals.storedBytes), 'num'); cell(r, time(s.createdAt));
        cell(r, s.health ? (s.health.ok ? 'verified ' : 'PROBLEMS ') + time(s.health.checkedAt) : 'not verified', s.health && !s.health.ok ? 'error' : '');
      });
    } catch (err) {
      $('status').textContent = 'Cannot load: ' + err.message;
      $('status').className = 'error';
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
</script>
</body>
</html>
`;
