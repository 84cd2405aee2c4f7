/**
 * The admin dashboard page, one static document both runtimes serve (embedded: `GET /dashboard`;
 * Firebase: the `adminDashboard` function). It holds no data: it asks the admin API
 * (`POST {page}/api/{name}`, admin-api.ts) with the admin token it was given (`#token=` in its
 * address, kept in the tab's sessionStorage, or pasted into its sign-in form). Every value is
 * written with `textContent` or as SVG text nodes, never as markup, so a job's error or a device
 * id cannot inject anything. Charts are hand-rolled SVG (no library to load or audit).
 *
 * Views (`#/jobs`, `#/job/ID`, `#/users`, `#/user/UID`, `#/queues`, `#/snapshots`, `#/charts`)
 * refresh themselves while shown; actions (retry, cancel, re-verify, GC for a user, measure
 * storage, check or check and repair a user's repository, delete a snapshot, delete all of a
 * user's data) ask for confirmation in a dialog first; deleting a user's data only once the admin
 * has typed the user id, and it calls again while the deletion reports `running`.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lifeboat dashboard</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1d2329; background: #fafbfc; }
  header { display: flex; gap: 1.5rem; align-items: baseline; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid #e4e7eb; flex-wrap: wrap; }
  header h1 { font-size: 1.2rem; margin: 0; } nav a { margin-right: 1rem; color: #1d4ed8; text-decoration: none; } nav a.current { font-weight: 600; text-decoration: underline; }
  main { padding: 1rem 1.5rem; } h2 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; } h3 { font-size: .95rem; margin: 1rem 0 .4rem; }
  #status { color: #5b6770; font-size: 12px; margin-left: auto; } .error, .bad { color: #b42318; } #notice { margin: .5rem 0; } #notice:empty { display: none; }
  table { border-collapse: collapse; width: 100%; background: #fff; margin-bottom: .5rem; } th, td { padding: .3rem .5rem; border-bottom: 1px solid #e4e7eb; text-align: left; vertical-align: top; }
  th { font-weight: 600; color: #5b6770; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; } td.empty { color: #5b6770; }
  .wrap { white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; max-width: 42rem; }
  .bar { width: 120px; height: 8px; background: #e4e7eb; border-radius: 4px; overflow: hidden; display: inline-block; vertical-align: middle; }
  .bar > span { display: block; height: 100%; }
  .tone-done { background: #2e7d32; } .tone-active { background: #1565c0; } .tone-failed { background: #c62828; } .tone-cancelled { background: #9e9e9e; } .tone-paused { background: #f9a825; } .tone-stalled { background: #ef6c00; }
  .pill { padding: 0 .4rem; border-radius: 8px; background: #e4e7eb; white-space: nowrap; } .s-failed, .h-failing, .h-problems { background: #fde2e1; } .s-completed, .h-ok { background: #dcf2dc; } .s-running { background: #dde8fb; } .s-paused, .h-stale { background: #fff1cc; }
  .counts span { margin-right: 1rem; } code { font-size: 12px; } form.filters { display: flex; gap: .5rem; flex-wrap: wrap; align-items: end; margin-bottom: .5rem; } form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #5b6770; }
  button { font: inherit; padding: .2rem .7rem; cursor: pointer; } button.danger { color: #b42318; } .actions { display: flex; gap: .5rem; margin: .5rem 0; } .pager { display: flex; gap: .5rem; align-items: center; margin: .5rem 0; }
  .attention { color: #9a3412; } .timeline li.bad { color: #b42318; } dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; } dl.facts dt { color: #5b6770; } dl.facts dd { margin: 0; }
  svg.chart { background: #fff; border: 1px solid #e4e7eb; margin: 0 1rem 1rem 0; } svg.chart text { font: 11px system-ui, sans-serif; fill: #5b6770; }
  .c-completed, .c-uploaded, .c-p50, .c-depth { fill: #2e7d32; stroke: #2e7d32; } .c-failed, .c-p95 { fill: #c62828; stroke: #c62828; } .c-cancelled { fill: #9e9e9e; stroke: #9e9e9e; } .c-active, .c-stored, .c-running { fill: #1565c0; stroke: #1565c0; }
  svg.chart polyline { fill: none; } .charts { display: flex; flex-wrap: wrap; } dialog { border: 1px solid #c3c9d0; border-radius: 6px; max-width: 32rem; } #login { max-width: 40rem; } #login input { width: 100%; }
</style>
</head>
<body>
<header><h1>Lifeboat</h1><nav id="nav"><a href="#/jobs">Jobs</a><a href="#/users">Users</a><a href="#/queues">Queues</a><a href="#/snapshots">Snapshots</a><a href="#/charts">Charts</a></nav><span id="status">Loading…</span></header>
<main>
<div id="notice" role="status"></div>
<section id="login" hidden>
  <h2>Sign in</h2>
  <p id="login-why">This dashboard needs an admin token: <code>lifeboat token --admin</code> embedded, or a Firebase ID token carrying the <code>admin</code> claim (<code>lifeboat admin grant --email E --project P</code>).</p>
  <form id="login-form"><input id="login-token" autocomplete="off" placeholder="admin token"> <button type="submit">Sign in</button></form>
</section>
<div id="view"></div>
</main>
<dialog id="confirm"><p id="confirm-text"></p><p><input id="confirm-input" autocomplete="off" size="30" hidden></p><div class="actions"><button id="confirm-ok" class="danger">Confirm</button><button id="confirm-cancel">Cancel</button></div></dialog>
<script>
(() => {
  'use strict';
  const TOKEN_KEY = 'lifeboat-admin-token';
  const given = new URLSearchParams(location.hash.slice(1)).get('token');
  let token = given || sessionStorage.getItem(TOKEN_KEY) || '';
  if (given) { sessionStorage.setItem(TOKEN_KEY, given); history.replaceState(null, '', location.pathname + '#/jobs'); }
  const base = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';
  const $ = (id) => document.getElementById(id);
  let timer = null;
  let generation = 0;

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = String(v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c));
    return e;
  }
  const bytes = (n) => n == null ? '' : n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : n < 1073741824 ? (n / 1048576).toFixed(2) + ' MiB' : (n / 1073741824).toFixed(2) + ' GiB';
  const time = (ms) => ms == null ? '' : new Date(ms).toLocaleString();
  const secs = (ms) => ms == null ? '' : ms < 1000 ? ms + ' ms' : ms < 120000 ? (ms / 1000).toFixed(1) + ' s' : (ms / 60000).toFixed(1) + ' min';
  const notice = (text, bad) => { const n = $('notice'); n.textContent = text || ''; n.className = bad ? 'error' : ''; };

  async function api(name, data) {
    const res = await fetch(base + 'api/' + name, { method: 'POST', headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' }, body: JSON.stringify({ data: data || {} }) });
    let body = {};
    try { body = await res.json(); } catch (e) { body = {}; }
    if (!res.ok || body.error) {
      const err = new Error(body.error ? body.error.message : 'HTTP ' + res.status);
      err.status = res.status;
      throw err;
    }
    return body.result;
  }

  function showLogin(why) {
    $('login').hidden = false;
    $('view').replaceChildren();
    if (why) { $('login-why').textContent = why; $('login-why').className = 'error'; }
    $('status').textContent = 'Signed out';
  }
  $('login-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    token = $('login-token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    $('login').hidden = true;
    route();
  });

  // With typed, Confirm stays disabled until the admin has typed exactly that (for what cannot be undone).
  function confirmAction(text, typed) {
    const dialog = $('confirm');
    const input = $('confirm-input');
    $('confirm-text').textContent = text;
    input.hidden = !typed;
    input.value = '';
    input.placeholder = typed ? 'type ' + typed + ' to confirm' : '';
    $('confirm-ok').disabled = !!typed;
    input.oninput = () => { $('confirm-ok').disabled = input.value !== typed; };
    return new Promise((resolve) => {
      const done = (ok) => { dialog.close(); $('confirm-ok').onclick = null; $('confirm-cancel').onclick = null; input.oninput = null; $('confirm-ok').disabled = false; resolve(ok); };
      $('confirm-ok').onclick = () => done(true);
      $('confirm-cancel').onclick = () => done(false);
      dialog.showModal();
    });
  }

  async function act(question, name, data, describe) {
    if (!(await confirmAction(question))) return null;
    try {
      const result = await api(name, data);
      notice(describe(result));
      return result;
    } catch (err) {
      notice(name + ' failed: ' + err.message, true);
      return null;
    }
  }

  function table(headers, rows, render) {
    const body = el('tbody');
    rows.forEach((r, i) => body.append(render(r, i)));
    if (rows.length === 0) body.append(el('tr', {}, el('td', { class: 'empty', colspan: headers.length, text: 'none' })));
    return el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { text: h })))), body);
  }
  const td = (text, cls) => el('td', { class: cls, text: text == null ? '' : text });
  const pill = (text, cls) => el('span', { class: 'pill ' + cls, text });
  const link = (text, href) => el('a', { href, text });
  const barOf = (bar) => el('span', { class: 'bar', title: bar.percent + '%' }, el('span', { class: 'tone-' + bar.tone, style: 'width:' + bar.percent + '%' }));

  function jobRow(view) {
    const j = view.job;
    const p = j.progress;
    const problem = view.attention ? view.attention.message : '';
    const error = j.lastError ? j.lastError.code + ': ' + j.lastError.message : '';
    return el('tr', { 'data-job': j.id, 'data-status': j.status },
      el('td', {}, link(j.id, '#/job/' + encodeURIComponent(j.id))),
      td(j.uid + ' / ' + j.deviceId, 'wrap'),
      td(j.types.join(', ')),
      el('td', {}, pill(j.status + ' · ' + j.phase + (j.pauseReason ? ' · ' + j.pauseReason : ''), 's-' + j.status)),
      el('td', { class: 'num' }, barOf(view.bar), ' ' + p.processedItems + '/' + p.totalItems + (p.skippedItems ? ' (' + p.skippedItems + ' skipped)' : '')),
      td(bytes(p.bytesUploaded) + ' of ' + bytes(p.bytesTotal), 'num'),
      td(bytes(p.bytesStored), 'num'),
      td(time(j.createdAt)),
      el('td', { class: 'wrap' }, problem ? el('div', { class: 'attention', text: problem }) : null, error ? el('div', { class: 'error', text: error }) : null));
  }
  const JOB_HEADERS = ['Job', 'User / device', 'Types', 'Status', 'Items', 'Uploaded', 'Stored', 'Created', 'Attention / error'];

  function pager(cursors, index, next, go) {
    return el('div', { class: 'pager' },
      el('button', { type: 'button', disabled: index === 0, onclick: () => go(index - 1), text: '← Newer' }),
      el('span', { text: 'page ' + (index + 1) }),
      el('button', { type: 'button', disabled: !next, onclick: () => { cursors[index + 1] = next; go(index + 1); }, text: 'Older →' }));
  }

  function field(label, input) { return el('label', {}, label, input); }
  function select(id, values, current) {
    const s = el('select', { id });
    s.append(el('option', { value: '', text: 'any' }));
    for (const v of values) s.append(el('option', { value: v, text: v, selected: v === current }));
    return s;
  }
  const localTime = (ms) => { if (!ms) return ''; const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000); return d.toISOString().slice(0, 16); };

  // Views. Each renders into #view and returns a refresh function the timer calls.
  const views = {
    async jobs(params) {
      const filters = {};
      for (const k of ['status', 'uid', 'deviceId', 'type']) if (params.get(k)) filters[k] = params.get(k);
      for (const k of ['from', 'to']) if (params.get(k)) filters[k] = Number(params.get(k));
      const form = el('form', { class: 'filters', id: 'job-filters' },
        field('Status', select('f-status', ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled'], filters.status)),
        field('User', el('input', { id: 'f-uid', value: filters.uid || '', size: 14 })),
        field('Device', el('input', { id: 'f-device', value: filters.deviceId || '', size: 14 })),
        field('Type', select('f-type', ['contacts', 'chats', 'media', 'deviceInfo'], filters.type)),
        field('Created from', el('input', { id: 'f-from', type: 'datetime-local', value: localTime(filters.from) })),
        field('to', el('input', { id: 'f-to', type: 'datetime-local', value: localTime(filters.to) })),
        el('button', { type: 'submit', text: 'Apply' }),
        el('button', { type: 'button', text: 'Clear', onclick: () => { location.hash = '#/jobs'; } }));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const q = new URLSearchParams();
        const put = (k, v) => { if (v) q.set(k, v); };
        put('status', $('f-status').value); put('uid', $('f-uid').value.trim()); put('deviceId', $('f-device').value.trim()); put('type', $('f-type').value);
        if ($('f-from').value) q.set('from', String(new Date($('f-from').value).getTime()));
        if ($('f-to').value) q.set('to', String(new Date($('f-to').value).getTime()));
        location.hash = '#/jobs' + (q.toString() ? '?' + q.toString() : '');
      });
      const counts = el('div', { class: 'counts', id: 'job-counts' });
      const holder = el('div', { id: 'jobs-table' });
      const cursors = [undefined];
      let index = 0;
      $('view').replaceChildren(el('h2', { text: 'Jobs' }), counts, form, holder);
      const refresh = async () => {
        const [overview, page] = await Promise.all([api('overview'), api('jobs', Object.assign({}, filters, cursors[index] ? { cursor: cursors[index] } : {}, { limit: 50 }))]);
        counts.replaceChildren(...Object.entries(overview.jobCounts).map(([k, v]) => el('span', {}, link(k + ': ' + v, '#/jobs?status=' + k))));
        holder.replaceChildren(table(JOB_HEADERS, page.jobs, jobRow), pager(cursors, index, page.nextCursor, (i) => { index = i; refresh().catch(failed); }));
      };
      return refresh;
    },

    async job(params, id) {
      const refresh = async () => {
        const d = await api('job', { jobId: id });
        const j = d.job;
        const actions = el('div', { class: 'actions' });
        if (j.status === 'failed') actions.append(el('button', { type: 'button', text: 'Retry', onclick: () => act('Retry job ' + j.id + ' of ' + j.uid + '? It resumes where it stopped.', 'retryJob', { jobId: j.id }, (r) => 'Job ' + r.job.id + ' is ' + r.job.status + ' again').then(() => refresh().catch(failed)) }));
        if (j.status !== 'completed' && j.status !== 'cancelled') actions.append(el('button', { type: 'button', class: 'danger', text: 'Cancel job', onclick: () => act('Cancel job ' + j.id + ' of ' + j.uid + '? Its uploads are discarded.', 'cancelJob', { jobId: j.id }, (r) => 'Job ' + r.job.id + ' is ' + r.job.status).then(() => refresh().catch(failed)) }));
        const p = j.progress;
        const facts = el('dl', { class: 'facts' },
          el('dt', { text: 'User / device' }), el('dd', {}, link(j.uid, '#/user/' + encodeURIComponent(j.uid)), ' / ' + j.deviceId),
          el('dt', { text: 'Status' }), el('dd', { id: 'job-status' }, pill(j.status + ' · ' + j.phase + (j.pauseReason ? ' · ' + j.pauseReason : ''), 's-' + j.status)),
          el('dt', { text: 'Progress' }), el('dd', {}, barOf(d.bar), ' ' + p.processedItems + '/' + p.totalItems + ' items, ' + p.processedChunks + '/' + p.totalChunks + ' chunks, ' + bytes(p.bytesUploaded) + ' uploaded of ' + bytes(p.bytesTotal) + ', ' + bytes(p.bytesDeduplicated) + ' already stored, ' + bytes(p.bytesStored) + ' stored'),
          el('dt', { text: 'Types, trigger' }), el('dd', { text: j.types.join(', ') + ', ' + j.trigger + ', attempt ' + j.attempts }),
          el('dt', { text: 'Created / finished' }), el('dd', { text: time(j.createdAt) + (j.finishedAt ? ' / ' + time(j.finishedAt) + ' (' + secs(j.finishedAt - j.createdAt) + ')' : '') }));
        const parts = [el('h2', {}, 'Job ', el('code', { text: j.id })), actions, facts];
        if (d.attention) parts.push(el('p', { class: 'attention wrap', id: 'job-attention', text: d.attention.message }));
        if (j.lastError) parts.push(el('h3', { text: 'Last error' }), el('pre', { class: 'error wrap', id: 'job-error', text: j.lastError.step + ' (' + j.lastError.code + (j.lastError.retrying ? ', retrying' : ', final') + ', ' + time(j.lastError.at) + '):\\n' + j.lastError.message }));
        parts.push(el('h3', { text: 'Timeline' }), el('ol', { class: 'timeline' }, ...d.timeline.map((t) => el('li', { class: t.bad ? 'bad' : '', text: time(t.at) + ' — ' + t.text }))));
        parts.push(el('h3', { text: 'Steps: attempts and errors' }), table(['Step', 'Tasks', 'Attempts', 'Running', 'Retried', 'Dropped', 'Last error'], d.steps, (s) => el('tr', {}, td(s.step), td(s.tasks, 'num'), td(s.attempts, 'num'), td(s.running, 'num'), td(s.retried, 'num'), td(s.dropped, 'num'), td(s.lastError, 'wrap error'))));
        const states = Object.entries(d.chunks.byState).map(([state, t]) => ({ state, chunks: t.chunks, items: t.items, bytes: t.bytes }));
        states.push({ state: 'known (stored already)', chunks: d.chunks.known.chunks, items: d.chunks.known.items, bytes: d.chunks.known.bytes });
        parts.push(el('h3', { text: 'Chunks by state' }), d.chunks.note ? el('p', { class: 'wrap', text: d.chunks.note }) : null, table(['State', 'Chunks', 'Items', 'Bytes'], states, (s) => el('tr', {}, td(s.state), td(s.chunks, 'num'), td(s.items, 'num'), td(bytes(s.bytes), 'num'))));
        parts.push(el('h3', { text: 'Chunks (first ' + d.chunks.page.length + ')' }), table(['#', 'Chunk', 'Type', 'Size', 'Items', 'State', 'Error'], d.chunks.page, (c, i) => el('tr', {}, td(i + 1, 'num'), el('td', {}, el('code', { text: c.id.slice(0, 12) + '…' })), td(c.type), td(bytes(c.size), 'num'), td(c.processedItems + '/' + c.items, 'num'), td(c.state), td(c.error, 'wrap error'))));
        if (d.tasks) parts.push(el('h3', { text: 'Queue tasks' }), table(['Queue', 'Task', 'State', 'Attempts', 'Last error'], d.tasks, (t) => el('tr', {}, td(t.queue), el('td', {}, el('code', { text: t.id })), td(t.state), td(t.attempts, 'num'), td(t.lastError, 'wrap error'))));
        if (d.snapshot) parts.push(el('h3', { text: 'Snapshot' }), snapshotTable([d.snapshot], () => refresh().catch(failed)));
        $('view').replaceChildren(...parts.filter(Boolean));
      };
      return refresh;
    },

    async users() {
      const holder = el('div');
      const cursors = [undefined];
      let index = 0;
      $('view').replaceChildren(el('h2', { text: 'Users' }), holder);
      const refresh = async () => {
        const page = await api('users', Object.assign({ limit: 25 }, cursors[index] ? { cursor: cursors[index] } : {}));
        holder.replaceChildren(table(['User', 'Health', 'Last backup', 'Latest job', 'Snapshots', 'Schedules', 'Storage', 'Active jobs', 'Last check'], page.users, (u) => el('tr', { 'data-user': u.uid },
          el('td', {}, link(u.uid, '#/user/' + encodeURIComponent(u.uid))),
          el('td', { class: 'wrap' }, pill(u.health, 'h-' + u.health), ' ' + u.healthReason),
          td(time(u.lastBackupAt)),
          td(u.latestJob ? u.latestJob.status + ' ' + time(u.latestJob.createdAt) : ''),
          td(u.snapshots, 'num'), td(u.schedules, 'num'),
          td(u.storage ? bytes(u.storage.bytes) + ' (' + u.storage.blobs + ' blobs)' : 'not measured', 'num'),
          td(u.activeJobs, 'num'),
          td(checkLine(u.check), u.check && (u.check.status === 'failed' || (u.check.result && u.check.result.remaining > 0)) ? 'wrap error' : 'wrap'))), pager(cursors, index, page.nextCursor, (i) => { index = i; refresh().catch(failed); }));
      };
      return refresh;
    },

    async user(params, uid) {
      // The actions and their result stay put; the refresh redraws what is below them.
      const result = el('pre', { class: 'wrap', id: 'action-result' });
      const holder = el('div');
      const refresh = async () => {
        const u = await api('user', { uid });
        const q = u.quotas;
        const quota = (v, fmt) => v == null ? 'none' : fmt(v);
        holder.replaceChildren(
          el('dl', { class: 'facts' },
            el('dt', { text: 'Health' }), el('dd', { class: 'wrap' }, pill(u.health, 'h-' + u.health), ' ' + u.healthReason),
            el('dt', { text: 'Last backup' }), el('dd', { text: time(u.lastBackupAt) || 'never' }),
            el('dt', { text: 'Storage' }), el('dd', { text: u.storage ? bytes(u.storage.bytes) + ' in ' + u.storage.blobs + ' blobs (measured ' + time(u.storage.measuredAt) + ')' : 'not measured' }),
            el('dt', { text: 'Quotas' }), el('dd', { text: 'storage ' + quota(q.storedBytes, bytes) + ', ' + quota(q.backupsPerDay, String) + ' backups a day, ' + quota(q.concurrentJobs, String) + ' jobs at once, ' + quota(q.bytesPerJob, bytes) + ' per job' })),
          ...checkSection(u.check),
          el('h3', { text: 'Jobs' }), el('p', {}, link('all of ' + uid + '\\'s jobs', '#/jobs?uid=' + encodeURIComponent(uid))),
          table(['Job', 'Device', 'Status', 'Created', 'Error'], u.jobs, (j) => el('tr', {}, el('td', {}, link(j.id, '#/job/' + encodeURIComponent(j.id))), td(j.deviceId), el('td', {}, pill(j.status, 's-' + j.status)), td(time(j.createdAt)), td(j.lastError ? j.lastError.code + ': ' + j.lastError.message : '', 'wrap error'))),
          el('h3', { text: 'Snapshots (' + u.snapshots + ')' }), snapshotTable(u.recentSnapshots, () => refresh().catch(failed)),
          el('h3', { text: 'Schedules' }), table(['Schedule', 'Device', 'Kind', 'Types', 'Next run', 'Enabled'], u.scheduleList, (s) => el('tr', {}, td(s.id), td(s.deviceId), td(s.kind + (s.everyHours ? ' every ' + s.everyHours + ' h' : s.cron ? ' ' + s.cron : '') + ' (' + s.timeZone + ')'), td(s.types.join(', ')), td(time(s.nextRunAt)), td(s.enabled ? 'yes' : 'no'))));
      };
      const actions = el('div', { class: 'actions' },
        field('GC grace (hours)', el('input', { id: 'gc-grace', type: 'number', min: 0, step: 'any', value: 1, size: 4 })),
        el('button', { type: 'button', text: 'Run GC', onclick: () => act('Run garbage collection for ' + uid + ' now? Blobs no snapshot or live job references, older than ' + $('gc-grace').value + ' h, are deleted.', 'collectGarbage', { uid, graceHours: Number($('gc-grace').value || 1) }, (r) => 'GC ' + r.report.status + ' for ' + uid + ': ' + r.report.deletedBlobs + ' blob(s), ' + bytes(r.report.deletedBytes) + ' deleted').then((r) => { if (r) result.textContent = JSON.stringify(r.report, null, 2); }) }),
        el('button', { type: 'button', text: 'Measure storage', onclick: () => act('List ' + uid + '\\'s blobs to measure their storage?', 'measureStorage', { uid }, (r) => uid + ' takes ' + bytes(r.storage.bytes) + ' in ' + r.storage.blobs + ' blobs').then(() => refresh().catch(failed)) }),
        field('Re-read data (%)', el('input', { id: 'check-read', type: 'number', min: 0, max: 100, step: 'any', value: 0, size: 4 })),
        el('button', { type: 'button', text: 'Check', onclick: () => checkUser(false) }),
        el('button', { type: 'button', class: 'danger', text: 'Check and repair', onclick: () => checkUser(true) }),
        el('button', { type: 'button', class: 'danger', id: 'delete-user', text: 'Delete all data', onclick: (ev) => deleteAll(ev.currentTarget) }));
      // One bounded run per call: called again while the deletion reports running, its counts shown as it goes.
      async function deleteAll(button) {
        const question = 'Delete ALL of ' + uid + '\\'s data: every snapshot and blob, their schedules, device tokens, settings and data key? Backups of theirs under way are cancelled. This cannot be undone. Type the user id to confirm.';
        if (!(await confirmAction(question, uid))) return;
        const say = (d) => uid + ': deletion ' + d.status + ', ' + d.removed.documents + ' document(s), ' + d.removed.objects + ' object(s), ' + d.removed.jobsCancelled + ' job(s) cancelled, ' + d.removed.devices + ' device(s), ' + d.removed.uploadSessions + ' upload session(s) removed'
          + (d.status === 'running' ? ' so far; going on…' : d.status === 'reclaimed' ? '; all of it is gone and unreadable; new data for ' + uid + ' is refused until ' + time(d.settlesAt) : '; nothing of ' + uid + ' is left');
        button.disabled = true;
        try {
          for (;;) {
            const r = await api('deleteUserData', { uid, confirm: true });
            notice(say(r.deletion));
            result.textContent = JSON.stringify(r.deletion, null, 2);
            if (r.deletion.status !== 'running') break;
          }
        } catch (err) {
          notice('deleteUserData failed: ' + err.message + ' (what was removed stays removed; Delete all data again carries on)', true);
        }
        button.disabled = false;
        refresh().catch(failed);
      }
      function checkUser(repair) {
        const share = Number($('check-read').value || 0);
        const what = 'every snapshot, manifest and chunk-index entry of ' + uid + (share > 0 ? ', re-reading ' + share + ' % of the content blobs' : '');
        const question = repair
          ? 'Check and REPAIR ' + uid + '\\'s repository? A task walks ' + what + ', then drops the index entries that rely on lost data, moves corrupt blobs to quarantine and marks damaged snapshots. The next backup stores the lost data again; snapshots that lost data stay marked.'
          : 'Check ' + uid + '\\'s repository? A task walks ' + what + ' and records what it finds; nothing is changed.';
        return act(question, 'checkUser', { uid, repair, readDataPercent: share }, (r) => r.started ? 'Check of ' + uid + ' queued; its record below follows it' : 'A check of ' + uid + ' is already ' + r.record.status + ' (asked ' + time(r.record.requestedAt) + ' by ' + r.record.actor + ')').then(() => refresh().catch(failed));
      }
      $('view').replaceChildren(el('h2', {}, 'User ', el('code', { text: uid })), actions, result, holder);
      return refresh;
    },

    async queues() {
      const refresh = async () => {
        const q = await api('queues');
        $('view').replaceChildren(el('h2', { text: 'Task queues' }),
          table(['Queue', 'Waiting', 'Running', 'Retrying', 'Next due'], q.queues, (s) => el('tr', { 'data-queue': s.name }, td(s.name), td(s.depth, 'num'), td(s.running, 'num'), td(s.retrying == null ? '' : s.retrying, 'num'), td(s.nextDueAt ? time(s.nextDueAt) : ''))),
          el('h3', { text: 'Queue depth, last 24 h' }), lineChart('Waiting tasks', q.samples.map((s) => s.at), [{ name: 'waiting', cls: 'c-depth', values: q.samples.map((s) => Object.values(s.queues).reduce((n, x) => n + x.depth, 0)) }, { name: 'running', cls: 'c-running', values: q.samples.map((s) => Object.values(s.queues).reduce((n, x) => n + x.running, 0)) }], String),
          el('h3', { text: 'Dropped tasks' }), table(['Task', 'Queue', 'Attempts', 'When', 'Error'], q.dropped, (t) => el('tr', {}, el('td', {}, el('code', { text: t.id })), td(t.queue), td(t.attempts, 'num'), td(time(t.at)), td(t.lastError, 'wrap error'))));
      };
      return refresh;
    },

    async snapshots(params) {
      const uid = params.get('uid') || '';
      const form = el('form', { class: 'filters' }, field('User', el('input', { id: 's-uid', value: uid, size: 14 })), el('button', { type: 'submit', text: 'Apply' }));
      form.addEventListener('submit', (ev) => { ev.preventDefault(); const v = $('s-uid').value.trim(); location.hash = '#/snapshots' + (v ? '?uid=' + encodeURIComponent(v) : ''); });
      const holder = el('div');
      const cursors = [undefined];
      let index = 0;
      $('view').replaceChildren(el('h2', { text: 'Snapshots' }), form, holder);
      const refresh = async () => {
        const page = await api('snapshots', Object.assign({ limit: 50 }, uid ? { uid } : {}, cursors[index] ? { cursor: cursors[index] } : {}));
        holder.replaceChildren(snapshotTable(page.items, () => refresh().catch(failed)), pager(cursors, index, page.nextCursor, (i) => { index = i; refresh().catch(failed); }));
      };
      return refresh;
    },

    async charts() {
      const refresh = async () => {
        const c = await api('charts');
        const w = c.window;
        $('view').replaceChildren(el('h2', { text: 'Charts' }),
          el('p', { text: 'From ' + w.jobs + ' job(s) created since ' + time(w.from) + (w.truncated ? ' (the newest only: there were more)' : '') + '.' }),
          el('div', { class: 'charts' },
            barChart('Jobs per hour by outcome', c.jobsPerHour.map((h) => h.at), ['completed', 'failed', 'cancelled', 'active'].map((k) => ({ name: k, cls: 'c-' + k, values: c.jobsPerHour.map((h) => h[k]) })), String, true),
            barChart('Bytes per day', c.bytesPerDay.map((d) => d.at), [{ name: 'uploaded', cls: 'c-uploaded', values: c.bytesPerDay.map((d) => d.uploaded) }, { name: 'stored', cls: 'c-stored', values: c.bytesPerDay.map((d) => d.stored) }], bytes, false),
            lineChart('Job duration per day (completed)', c.durationPerDay.map((d) => d.at), [{ name: 'p50', cls: 'c-p50', values: c.durationPerDay.map((d) => d.p50) }, { name: 'p95', cls: 'c-p95', values: c.durationPerDay.map((d) => d.p95) }], secs),
            lineChart('Queue depth, last 24 h', c.queueDepth.map((s) => s.at), [{ name: 'waiting', cls: 'c-depth', values: c.queueDepth.map((s) => Object.values(s.queues).reduce((n, x) => n + x.depth, 0)) }], String)));
      };
      return refresh;
    },
  };

  function snapshotTable(items, after) {
    return table(['Snapshot', 'User / device', 'Created', 'Items', 'Original', 'Stored', 'Health', ''], items, (s) => el('tr', { 'data-snapshot': s.id },
      el('td', {}, el('code', { text: s.id })), td(s.uid + ' / ' + s.deviceId, 'wrap'), td(time(s.createdAt)),
      td(s.totals.items + (s.totals.skippedItems ? ' (' + s.totals.skippedItems + ' skipped)' : ''), 'num'), td(bytes(s.totals.originalBytes), 'num'), td(bytes(s.totals.storedBytes), 'num'),
      td(s.health ? (s.health.ok ? 'verified ' : 'PROBLEMS (' + s.health.problems + ') ') + time(s.health.checkedAt) : 'not verified', s.health && !s.health.ok ? 'error' : ''),
      el('td', {}, el('button', { type: 'button', class: 'danger', text: 'Delete', onclick: () => act('Delete snapshot ' + s.id + ' of ' + s.uid + ' (' + time(s.createdAt) + ', ' + s.totals.items + ' items)? It can no longer be listed or restored, and garbage collection frees the blobs no other snapshot needs. This cannot be undone.', 'deleteSnapshot', { snapshotId: s.id }, (r) => 'Snapshot ' + s.id + (r.deletion.deleted ? ' deleted' : ' was already gone') + '; GC ' + gcLine(r.deletion.gc)).then(after) }), ' ',
        el('button', { type: 'button', text: 'Re-verify', onclick: () => act('Re-read every blob of ' + s.id + ' and record its health?', 'verifySnapshot', { snapshotId: s.id }, (r) => r.report ? s.id + ': ' + (r.report.ok ? 'OK' : r.report.problems.length + ' problem(s)') + ', ' + r.report.checkedBlobs + ' blob(s) checked' : s.id + ': verify ' + r.verification.status + ' in rounds, ' + r.verification.checkedBlobs + ' of ' + r.verification.totalBlobs + ' blob(s) checked so far; its health is recorded when done').then(after) }))));
  }

  function gcLine(gc) {
    if (gc.reason) return gc.status + ': ' + gc.reason;
    return gc.status + ', ' + gc.deletedBlobs + ' blob(s), ' + bytes(gc.deletedBytes) + ' freed' + (gc.status === 'deferred' ? ' (a backup of the user is under way: a later run frees the rest)' : '') + (gc.youngBlobs ? '; ' + gc.youngBlobs + ' blob(s) younger than the grace period go at a later run' : '') + (gc.stoppedEarly ? '; stopped early, a later run finishes' : '');
  }

  // A user's latest check (settings/{uid}/check): one line for the users list, a section for the user's page.
  function checkLine(c) {
    if (!c) return 'never';
    const mode = (c.repair ? 'check+repair' : 'check') + (c.readDataPercent ? ' (' + c.readDataPercent + ' % re-read)' : '');
    if (c.status === 'queued') return mode + ' queued ' + time(c.requestedAt);
    if (c.status === 'running') return mode + ' running' + (c.progress ? ': ' + c.progress.phase + ' ' + c.progress.done + (c.progress.total != null ? '/' + c.progress.total : '') : '') + (c.error ? ' (retrying after ' + c.error.code + ')' : '');
    if (c.status === 'failed') return mode + ' failed ' + time(c.finishedAt) + ': ' + (c.error ? c.error.code + ': ' + c.error.message : '');
    const r = c.result;
    return mode + ' ' + time(c.finishedAt) + ': ' + (r.problemCount === 0 ? 'OK' : r.problemCount + ' problem(s), ' + r.remaining + ' remain') + (r.repair ? '; repaired: ' + r.repair.droppedIndexEntries + ' index entries dropped, ' + r.repair.quarantinedBlobs + ' blob(s) quarantined, ' + r.repair.markedSnapshots + ' snapshot(s) marked' + (r.repair.stoppedEarly ? ' (stopped early: run it again)' : '') : '');
  }
  function checkSection(c) {
    const parts = [el('h3', { text: 'Repository check' }), el('p', { class: 'wrap', id: 'check-record', 'data-status': c ? c.status : 'none', text: checkLine(c) + (c ? ' — asked by ' + c.actor + ' ' + time(c.requestedAt) : '') })];
    if (!c || !c.result) return parts;
    const r = c.result;
    parts.push(el('p', { text: r.snapshots + ' snapshot(s), ' + r.indexEntries + ' index entries, ' + r.manifestObjects + ' manifest object(s), ' + r.contentBlobs + ' content blob(s) (' + r.contentRead + ' re-read), ' + r.damagedSnapshots + ' damaged snapshot(s)' + (Object.keys(r.byKind).length ? '; by kind: ' + Object.entries(r.byKind).map(([k, n]) => k + ' ' + n).join(', ') : '') }));
    if (r.problems.length) parts.push(table(['Problem', 'Object', 'Breaks', 'Items lost', 'Next backups rely on it', 'Repair', 'Message'], r.problems, (p) => el('tr', { 'data-problem': p.kind },
      td(p.kind), el('td', {}, el('code', { text: p.ref.length > 24 ? p.ref.slice(0, 16) + '…' : p.ref })),
      td(p.snapshotCount ? p.snapshots.join(', ') + (p.snapshotCount > p.snapshots.length ? ' +' + (p.snapshotCount - p.snapshots.length) + ' more' : '') : '', 'wrap'),
      td(p.itemCount ? p.itemCount + (p.items.length ? ': ' + p.items.map((i) => i.type + ':' + i.sourceId).join(', ') : '') : '', 'wrap'),
      td(p.indexEntryCount ? p.indexEntryCount + ' index entr' + (p.indexEntryCount === 1 ? 'y' : 'ies') : ''),
      td(p.repaired ? (p.repaired.droppedIndexEntries ? 'dropped ' + p.repaired.droppedIndexEntries + ' entr' + (p.repaired.droppedIndexEntries === 1 ? 'y' : 'ies') : '') + (p.repaired.quarantined ? ' quarantined' : '') + (p.remains ? '; remains' : '; fixed') : (p.remains ? 'remains' : '')),
      td(p.message, 'wrap'))));
    if (r.problemCount > r.problems.length) parts.push(el('p', { text: 'The first ' + r.problems.length + ' of ' + r.problemCount + ' problems; lifeboat check --uid ' + c.uid + ' --json lists them all.' }));
    return parts;
  }

  // Charts: hand-rolled SVG, 360 x 170, a y axis from 0 to the largest value, the first and last x labels.
  const W = 360, H = 170, L = 48, R = 8, T = 22, B = 28;
  const NS = 'http://www.w3.org/2000/svg';
  function svg(tag, attrs, text) { const e = document.createElementNS(NS, tag); for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v)); if (text !== undefined) e.textContent = text; return e; }
  function frame(title, xs, max, fmt, series) {
    const root = svg('svg', { class: 'chart', width: W, height: H, viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': title });
    root.append(svg('text', { x: 4, y: 14 }, title));
    root.append(svg('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#c3c9d0' }), svg('line', { x1: L, y1: T, x2: L, y2: H - B, stroke: '#c3c9d0' }));
    root.append(svg('text', { x: 2, y: T + 8 }, fmt(max)), svg('text', { x: 2, y: H - B }, '0'));
    if (xs.length > 0) { root.append(svg('text', { x: L, y: H - 14 }, new Date(xs[0]).toLocaleString()), svg('text', { x: W - R, y: H - 14, 'text-anchor': 'end' }, new Date(xs[xs.length - 1]).toLocaleString())); }
    let lx = L;
    for (const s of series) { root.append(svg('rect', { x: lx, y: H - 9, width: 8, height: 8, class: s.cls }), svg('text', { x: lx + 10, y: H - 1 }, s.name)); lx += 14 + s.name.length * 6 + 8; }
    if (xs.length === 0) root.append(svg('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle' }, 'no data yet'));
    return root;
  }
  function barChart(title, xs, series, fmt, stacked) {
    const totals = xs.map((_, i) => stacked ? series.reduce((n, s) => n + (s.values[i] || 0), 0) : Math.max(0, ...series.map((s) => s.values[i] || 0)));
    const max = Math.max(1, ...totals);
    const root = frame(title, xs, max, fmt, series);
    const slot = (W - L - R) / Math.max(1, xs.length);
    const y = (v) => (H - B) - (v / max) * (H - B - T);
    xs.forEach((x, i) => {
      let acc = 0;
      series.forEach((s, k) => {
        const v = s.values[i] || 0;
        if (v <= 0) return;
        const width = stacked ? Math.max(1, slot - 1) : Math.max(1, (slot - 1) / series.length);
        const left = L + i * slot + (stacked ? 0 : k * width);
        const top = stacked ? y(acc + v) : y(v);
        const bottom = stacked ? y(acc) : H - B;
        const r = svg('rect', { x: left, y: top, width, height: Math.max(0.5, bottom - top), class: s.cls });
        r.append(svg('title', {}, s.name + ' ' + fmt(v) + ', ' + new Date(x).toLocaleString()));
        root.append(r);
        acc += v;
      });
    });
    return root;
  }
  function lineChart(title, xs, series, fmt) {
    const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v != null)));
    const root = frame(title, xs, max, fmt, series);
    const x0 = xs[0], span = Math.max(1, xs[xs.length - 1] - x0);
    const px = (x) => L + ((x - x0) / span) * (W - L - R);
    const py = (v) => (H - B) - (v / max) * (H - B - T);
    for (const s of series) {
      const pts = xs.map((x, i) => [x, s.values[i]]).filter(([, v]) => v != null);
      if (pts.length === 0) continue;
      root.append(svg('polyline', { points: pts.map(([x, v]) => px(x).toFixed(1) + ',' + py(v).toFixed(1)).join(' '), fill: 'none', class: s.cls, 'stroke-width': 1.5 }));
      for (const [x, v] of pts) { const c = svg('circle', { cx: px(x), cy: py(v), r: 2, class: s.cls }); c.append(svg('title', {}, s.name + ' ' + fmt(v) + ', ' + new Date(x).toLocaleString())); root.append(c); }
    }
    return root;
  }

  function failed(err) {
    if (err.status === 401 || err.status === 403) { clearInterval(timer); showLogin(err.status === 403 ? 'This token is not an admin token (' + err.message + ').' : 'The token is missing, invalid or expired (' + err.message + ').'); return; }
    $('status').textContent = 'Cannot load: ' + err.message;
    $('status').className = 'error';
  }

  async function route() {
    clearInterval(timer);
    const mine = ++generation;
    if (!token) { showLogin(); return; }
    $('login').hidden = true;
    const hash = location.hash.replace(/^#\\/?/, '') || 'jobs';
    const [path, query] = hash.split('?');
    const [name, arg] = [path.split('/')[0], path.split('/').slice(1).join('/')];
    const view = views[name] || views.jobs;
    for (const a of $('nav').querySelectorAll('a')) a.className = a.getAttribute('href') === '#/' + (views[name] ? (name === 'job' ? 'jobs' : name === 'user' ? 'users' : name) : 'jobs') ? 'current' : '';
    try {
      const refresh = await view(new URLSearchParams(query || ''), decodeURIComponent(arg || ''));
      const tick = async () => {
        if (mine !== generation || $('confirm').open) return;
        try { await refresh(); $('status').textContent = 'Updated ' + new Date().toLocaleTimeString(); $('status').className = ''; } catch (err) { failed(err); }
      };
      await tick();
      if (mine === generation) timer = setInterval(tick, name === 'charts' || name === 'users' ? 10000 : 2000);
    } catch (err) { failed(err); }
  }
  window.addEventListener('hashchange', () => { notice(''); route(); });
  route();
})();
</script>
</body>
</html>
`;
