// The console's pages (doc/console.md). Hash routes: #/home, #/records,
// #/record/ID, #/approvals, #/register, #/play/OBJECT, #/sheet/ID, #/report,
// #/devices, #/stations, #/purges, #/cluster.
import { ApiError, call, get, post, setCsrf, setExpiredHandler } from './api.js';
import { h, millis, show, table, when, whenText } from './dom.js';
import { dateTime, language, setLanguage, t, word } from './i18n.js';
import { forgetIdentity, importKey, loadIdentity, saveIdentity, sign, base64, signDecision }
  from './sign.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
let session = null;   // {user, principal, csrf, expires}
let identity = null;  // {user, certificate, key}: decisions are signed with it

// What went wrong, in words: a node's refusal with its own message, a node
// or the console that does not answer, an ended session.
function problemText(e) {
  if (typeof e === 'string') return e;
  if (e instanceof ApiError) {
    if (e.status === 401) return t('session_ended');
    if (e.status === 0) return e.message;
    if (e.status === 503) return `${t('unavailable')} ${e.message}`;
    if (e.status === 403) return `${t('refused')}: ${e.message}`;
    return `${t('failed')} (${e.code}): ${e.message}`;
  }
  return (e && e.message) || String(e);
}

// Shown in place of what could not be loaded: never a blank. A refusal
// (403: not for this person) is quiet; a failure (a node down, ...) is not.
const problem = (e) => h('p', { class: e instanceof ApiError && e.status === 403 ? 'refusal' : 'problem',
  role: 'status' }, problemText(e));

// The nodes that did not answer ("node: why"), when there are any.
function unreachable(list) {
  if (!(list || []).length) return null;
  return h('div', { class: 'unreachable', role: 'status' }, t('unreachable'),
    h('ul', {}, list.map((x) => h('li', {}, x))));
}

function fail(e) {
  const box = document.getElementById('error');
  box.textContent = problemText(e);
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 8000);
}

// A call answered 401: the session ended (or there is none). The key kept in
// IndexedDB goes, as on sign-out, and the sign-in page comes back.
async function expired() {
  const had = session !== null;
  session = null;
  identity = null;
  try { await forgetIdentity(); } catch (e) { /* nothing kept */ }
  if (had) route();
}
setExpiredHandler(expired);

// Values a node sends from a fixed set, in the chosen language; the value
// itself stays in data-* for scripts and tests.
const stateOf = (s) => h('span', { class: `state state-${s}`, 'data-state': s }, word('state', s));
const flagOf = (f) => h('span', { class: 'flag', 'data-flag': f, title: f }, word('flag', f));
const proofOf = (p) => (p ? h('span', { class: `proof-${p.replace(' ', '-')}`, 'data-proof': p },
  word('proof', p.replace(' ', '_'))) : '');
const approversOf = (g) => (g.approvals || []).map((a) => `${a.by} (${word('role', a.role)})`).join(', ');

// An event's details, whether an object (the register's) or a list of
// {key, value} (AuditEvent as proto3 JSON).
function detailsOf(e) {
  const d = e.details || {};
  if (!Array.isArray(d)) return d;
  return Object.fromEntries(d.map((x) => [x.key, x.value]));
}
const detailsText = (e) => Object.entries(detailsOf(e)).map(([k, v]) => `${k}=${v}`).join(' ');

// A span of time in words: 4 s, 2 min 5 s, 1 h 3 min.
function duration(ms) {
  const secs = Math.round(ms / 1000);
  if (secs < 60) return `${secs} ${t('seconds')}`;
  const mins = Math.floor(secs / 60);
  if (mins < 60) return `${mins} ${t('minutes')} ${secs % 60} ${t('seconds')}`;
  return `${Math.floor(mins / 60)} ${t('hours')} ${mins % 60} ${t('minutes')}`;
}

// A line of news above the page; `state` (a node's value) goes in data-state.
function note(text, state) {
  const box = document.getElementById('note');
  box.textContent = text;
  if (state) box.dataset.state = state;
  else delete box.dataset.state;
}

function header() {
  document.title = t('title');
  document.documentElement.lang = language() === 'zh' ? 'zh-CN' : 'en';
  const link = (hash, word) => h('a', { href: hash }, t(word));
  show(top,
    h('strong', {}, t('title')),
    session && h('nav', {}, link('#/home', 'home'), link('#/records', 'records'),
      link('#/approvals', 'approvals'), link('#/register', 'register'), link('#/report', 'report'),
      link('#/devices', 'devices'), link('#/stations', 'stations'), link('#/purges', 'purges'),
      link('#/cluster', 'health')),
    session && h('span', { id: 'whoami' }, `${t('signed_in_as')} ${session.user}`),
    h('button', { id: 'lang', onclick: () => { setLanguage(language() === 'zh' ? 'en' : 'zh'); route(); } },
      language() === 'zh' ? 'English' : '中文'),
    session && h('button', { id: 'signout', onclick: signOut }, t('signout')));
}

async function signOut() {
  try { await post('/api/signout', {}); } catch (e) { /* already ended */ }
  await forgetIdentity();
  session = null;
  identity = null;
  if (location.hash !== '#/home') location.hash = '#/home';  // hashchange routes
  else route();
}

const readFile = (input) => (input.files[0] ? input.files[0].text() : Promise.resolve(''));

function signInPage() {
  const cert = h('input', { type: 'file', id: 'cert-file', accept: '.pem' });
  const key = h('input', { type: 'file', id: 'key-file', accept: '.pem' });
  const token = h('input', { type: 'password', id: 'token', autocomplete: 'off' });
  const statement = h('pre', { class: 'statement', id: 'statement' });
  const withCert = async (ev) => {
    ev.preventDefault();
    try {
      const certificate = await readFile(cert);
      const k = await importKey(await readFile(key));
      const c = await post('/api/signin/challenge', { certificate_pem: certificate }, false);
      statement.textContent = `${t('sign_statement')}\n\n${c.statement}`;
      const sig = await sign(k, new TextEncoder().encode(c.statement));
      const s = await post('/api/signin/certificate',
        { statement: c.statement, signature: base64(sig), certificate_pem: certificate }, false);
      identity = { user: s.user, certificate, key: k };
      await saveIdentity(identity);
      started(s);
    } catch (e) { fail(e); }
  };
  const withToken = async (ev) => {
    ev.preventDefault();
    try { started(await post('/api/signin/token', { token: token.value }, false)); } catch (e) { fail(e); }
  };
  main.dataset.page = 'signin';
  show(main,
    h('h1', {}, t('signin')),
    h('form', { class: 'signin', id: 'signin-cert', onsubmit: withCert },
      h('h2', {}, t('with_cert')),
      h('label', {}, t('cert_file'), cert), h('label', {}, t('key_file'), key),
      h('button', { type: 'submit', id: 'signin-cert-button' }, t('signin')), statement),
    h('form', { class: 'signin', id: 'signin-token', onsubmit: withToken },
      h('h2', {}, t('with_token')), h('label', {}, t('token'), token),
      h('button', { type: 'submit' }, t('signin'))));
}

function started(s) {
  session = s;
  setCsrf(s.csrf);
  route();
}

// Every grant `req` asks for, following the node's pages (at most 1000 each).
async function allGrants(req) {
  const grants = [];
  let token = '';
  do {
    const r = await call('custody.v1.Access/ListAccess', { ...req, page_token: token });
    grants.push(...(r.grants || []));
    token = r.next_page_token || '';
  } while (token);
  return { grants };
}

async function home() {
  const render = page();
  const settle = (p) => p.then((value) => ({ value }), (error) => ({ error }));
  const [inbox, overdue, cluster, stations, snaps] = await Promise.all([
    settle(allGrants({ waiting_for_me: true })),
    settle(call('custody.v1.Records/List', { overdue: true, page_size: 20 })),
    settle(call('custody.v1.Custody/ClusterStatus', {})),
    settle(call('custody.v1.Records/Stations', {})),
    settle(call('custody.v1.Snapshots/ListSnapshots', {})),
  ]);
  // A panel shows what it loaded, or why it could not.
  const panel = (id, title, r, n, body) => h('section', { id },
    h('h2', {}, r.error ? title : `${title} (${n(r.value)})`), r.error ? problem(r.error) : body(r.value));
  const quarantined = (v) => (v.stations || []).filter((x) => (x.quarantine || []).length > 0);
  render(
    h('h1', {}, t('home')),
    panel('home-inbox', t('pending'), inbox, (v) => v.grants.length, (v) => grantsTable(v.grants, false)),
    panel('home-overdue', t('overdue'), overdue, (v) => (v.records || []).length,
      (v) => recordsTable(v.records || [])),
    panel('home-stations', t('stations_quarantine'), stations, (v) => quarantined(v).length,
      (v) => h('div', {}, unreachable(v.unreachable), quarantined(v).length
        ? h('ul', {}, quarantined(v).map((x) => h('li', {},
          h('a', { href: '#/stations' }, `${x.station}: ${(x.quarantine || []).length}`))))
        : h('p', { class: 'muted' }, t('nothing')))),
    h('section', { id: 'home-cluster' }, h('h2', {}, t('health')),
      cluster.error ? problem(cluster.error)
        : table([t('node'), t('up'), t('zone')], (cluster.value.nodes || []).map((n) =>
          [n.id || n.node_id || '', n.up ? '✓' : `✗ ${n.error || ''}`, n.zone || '']))),
    h('section', { id: 'home-offsite' }, h('h2', {}, t('offsite')),
      snaps.error ? problem(snaps.error) : (() => {
        const last = (snaps.value.snapshots || []).filter((x) => x.receipt_peer).pop();
        return h('p', { id: 'last-receipt' }, last
          ? `${t('receipt')}: ${last.id}, ${last.receipt_peer}, ${when(last.receipt_unix_nanos)}`
          : t('nothing'));
      })()));
}

function recordsTable(records) {
  if (!records.length) return h('p', { class: 'muted' }, t('nothing'));
  return table([t('record'), t('archive_number'), t('agency'), t('matter'), t('target'), t('start'), t('flags')],
    records.map((r) => [h('a', { href: `#/record/${r.id}` }, r.id), r.archive_number, r.agency,
      String(r.matter), r.target, when(r.start_unix_nanos),
      h('span', {}, (r.flags || []).map(flagOf))]));
}

async function records(params) {
  const render = page();
  const form = h('form', { class: 'filters', id: 'record-search' });
  const field = (name, word, type = 'text') => h('label', {}, t(word),
    h('input', { name, type, value: params.get(name) || '' }));
  form.append(field('text', 'text'), field('target', 'target'), field('officer', 'officer'),
    field('device', 'device'), field('matter', 'matter', 'number'),
    field('from', 'from', 'date'), field('to', 'to', 'date'), field('flag', 'flags'),
    h('label', {}, t('held'), h('input', { name: 'held', type: 'checkbox', checked: params.get('held') === '1' })),
    h('button', { type: 'submit' }, t('search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, k === 'held' ? '1' : v);
    location.hash = `#/records?${q}`;
  });
  const req = { page_size: 50, page_token: params.get('page') || '' };
  for (const k of ['text', 'target', 'officer', 'device']) if (params.get(k)) req[k] = params.get(k);
  if (params.get('matter')) req.matter = Number(params.get('matter'));
  if (params.get('held')) req.held = true;
  if (params.get('flag')) req.flag = params.get('flag');
  if (params.get('from')) req.from_unix_nanos = String(BigInt(Date.parse(params.get('from'))) * 1000000n);
  if (params.get('to')) req.to_unix_nanos = String(BigInt(Date.parse(params.get('to'))) * 1000000n);
  const r = await call('custody.v1.Records/List', req);
  const next = r.next_page_token && (() => {
    params.set('page', r.next_page_token);
    return h('a', { href: `#/records?${params}` }, t('next'));
  })();
  render(h('h1', {}, t('records')), form,
    h('p', { id: 'records-count' }, `${t('on_this_page')}: ${(r.records || []).length}`),
    recordsTable(r.records || []), next);
}

// How a gap was explained: "note: TEXT" or "audio: sha256:...".
function explanation(g) {
  const e = g.explained_by || '';
  if (!e) return t('unexplained');
  if (e.startsWith('note: ')) return `${t('explained_note')}: ${e.slice(6)}`;
  if (e.startsWith('audio: ')) return `${t('explained_audio')}: ${e.slice(7)}`;
  return e;
}

// The timeline: a row per device, its segments as bars on one time scale,
// its gaps marked on its own row (numbered) and explained below it in words.
function timeline(r) {
  const stated = (ns) => ns && ns !== '0';
  const segs = r.segments || [];
  const gaps = r.gaps || [];
  const timed = segs.filter((s) => stated(s.start_unix_nanos));
  const starts = [r.start_unix_nanos, ...timed.map((s) => s.start_unix_nanos)].filter(stated).map(millis);
  const start = starts.length ? Math.min(...starts) : 0;
  const end = Math.max(millis(r.end_unix_nanos), ...timed.map((s) => millis(s.end_unix_nanos || s.start_unix_nanos)),
    ...gaps.map((g) => millis(g.to_unix_nanos)), start + 1);
  const devices = [...new Set([...(r.devices || []), ...segs.map((s) => s.device), ...gaps.map((g) => g.device)])]
    .filter((d) => d !== undefined);
  const place = (bar, el, from, to) => {
    el.style.left = `${(100 * (from - start)) / (end - start)}%`;
    el.style.width = `${Math.max(0.3, (100 * (to - from)) / (end - start))}%`;
    bar.append(el);
  };
  const clock = (ms) => dateTime(ms);
  const rows = devices.map((device) => {
    const bar = h('div', { class: 'timeline', role: 'img', 'aria-label': `${t('segments')}: ${device}` });
    const mine = timed.filter((s) => s.device === device);
    for (const s of mine) {
      place(bar, h('div', { class: `seg seg-${s.kind}`, title: `${word('kind', s.kind)} ${s.object_id}` }),
        millis(s.start_unix_nanos), millis(s.end_unix_nanos || s.start_unix_nanos));
    }
    const myGaps = gaps.filter((g) => g.device === device);
    for (const g of myGaps) {
      place(bar, h('div', { class: `gap ${g.explained_by ? 'explained' : 'unexplained'}`,
        'data-gap': String(g.number), title: `${t('gap')} ${g.number}: ${explanation(g)}` }, String(g.number)),
      millis(g.from_unix_nanos), millis(g.to_unix_nanos));
    }
    const untimed = segs.filter((s) => s.device === device && !stated(s.start_unix_nanos)).length;
    return h('div', { class: 'timeline-row', 'data-device': device },
      h('div', { class: 'timeline-device' }, device || '—'),
      h('div', {}, bar,
        mine.length || untimed ? null : h('p', { class: 'muted' }, t('no_footage')),
        untimed ? h('p', { class: 'muted' }, `${t('no_times')}: ${untimed}`) : null,
        myGaps.length ? h('ul', { class: 'gap-notes' }, myGaps.map((g) => h('li', {
          class: g.explained_by ? 'explained' : 'unexplained', 'data-gap': String(g.number) },
        `${t('gap')} ${g.number}: ${clock(millis(g.from_unix_nanos))} – ${clock(millis(g.to_unix_nanos))} ` +
          `(${duration(millis(g.to_unix_nanos) - millis(g.from_unix_nanos))}): ${explanation(g)}`))) : null));
  });
  if (!rows.length) return h('p', { class: 'muted' }, t('nothing'));
  return h('div', { class: 'timelines', id: 'timeline' }, rows,
    starts.length ? h('div', { class: 'timeline-row axis' }, h('div', {}),
      h('div', { class: 'timeline-axis' }, h('span', {}, clock(start)), h('span', {}, clock(end)))) : null);
}

async function record(id) {
  const render = page();
  const r = await call('custody.v1.Records/Show', { record_id: id });
  const reason = h('input', { id: 'access-reason', required: true });
  const ask = async (ev) => {
    ev.preventDefault();
    try {
      const g = await call('custody.v1.Access/RequestAccess', { record_id: r.id, reason: reason.value });
      note(`${t('request')} ${g.request_id.slice(0, 16)}: ${word('state', g.state)}`, g.state);
    } catch (e) { fail(e); }
  };
  render(
    h('h1', {}, `${t('record')} ${r.id}`),
    table(['', ''], [[t('archive_number'), r.archive_number || '—'], [t('agency'), r.agency],
      [t('matter'), String(r.matter)], [t('target'), r.target], [t('officer'), (r.officers || []).join(', ')],
      [t('device'), (r.devices || []).join(', ')], [t('start'), when(r.start_unix_nanos)],
      [t('end'), when(r.end_unix_nanos)], [t('flags'), h('span', {}, (r.flags || []).map(flagOf))],
      [t('holds'), ((r.retention || {}).legal_holds || []).map((x) => `${x.id} ${x.reason}`).join('; ')]]),
    h('h2', {}, t('segments')), timeline(r),
    h('h2', {}, t('objects')),
    table(['', t('device'), t('start'), t('end'), t('clock'), t('held_by'), ''], (r.segments || []).map((s) => [
      s.altered_after_upload ? h('span', {}, word('kind', s.kind), ' ',
        h('strong', { class: 'flag altered' }, t('altered'))) : word('kind', s.kind),
      s.device, when(s.start_unix_nanos), when(s.end_unix_nanos),
      s.clock_flagged ? h('span', { class: 'flag' }, `${s.clock_skew_seconds} ${t('seconds')}`)
        : (Number(s.clock_skew_seconds) ? `${s.clock_skew_seconds} ${t('seconds')}` : '✓'),
      s.held_by, s.kind === 'document' ? s.object_id
        : h('a', { href: `#/play/${s.object_id}`, class: 'play' }, t('play'))])),
    h('p', {}, h('a', { href: `#/sheet/${r.id}`, id: 'sheet-link' }, t('sheet'))),
    h('form', { class: 'filters', id: 'request-access', onsubmit: ask },
      h('label', {}, t('reason'), reason), h('button', { type: 'submit' }, t('request_access'))),
    recordDetails(r), h('div', { id: 'record-grants' }), recordActions(r));
  recordGrants(r);
}

// The record's access grants; a live one can be revoked (signed here).
async function recordGrants(r) {
  const box = document.getElementById('record-grants');
  let grants;
  try {
    grants = (await allGrants({ record_id: r.id })).grants;
  } catch (e) {
    if (document.body.contains(box)) show(box, h('h2', {}, t('grants')), problem(e));
    return;
  }
  const revoke = (g) => async () => {
    try {
      if (!identity) throw new Error(t('needs_key'));
      const why = document.getElementById(`revoke-reason-${g.request_id}`).value;
      const signed = await signDecision(identity, { kind: 'access.revoked',
        subject: `request:${g.request_id}`, fields: { request: g.request_id, reason: why } });
      await call('custody.v1.Access/Revoke', { request_id: g.request_id, reason: why, signed });
      route();
    } catch (e) { fail(e); }
  };
  show(box, h('h2', {}, t('grants')),
    table([t('request'), t('requester'), t('reason'), t('purpose'), t('state'), t('approvers'), ''],
      grants.map((g) => [g.request_id.slice(0, 16), g.requester, g.reason, word('purpose', g.purpose),
        stateOf(g.state), approversOf(g),
        g.state === 'granted' ? h('span', {},
          h('input', { id: `revoke-reason-${g.request_id}`, 'aria-label': t('reason') }),
          h('button', { class: 'revoke', onclick: revoke(g) }, t('revoke'))) : ''])));
}

// Footage listed at a dock, or in the camera's numbering, that is not here
// (doc/records.md, "Dock manifests"); nothing when none is.
function missingFiles(r) {
  const missing = r.missing || [];
  if (!missing.length) return [];
  const what = (m) => {
    if (m.reason === 'sequence-gap') {
      return `${t('file_numbers')} ${m.sequence}${m.sequence_last !== m.sequence ? `–${m.sequence_last}` : ''}`;
    }
    if (m.reason === 'truncated') return `${m.name} (${m.size} B): ${t('truncated_live')} (${m.truncated_reason})`;
    return `${m.name} (${m.size} B${Number(m.sequence) ? `, #${m.sequence}` : ''})`;
  };
  const listed = (m) => {
    if (m.reason === 'sequence-gap') return t('never_listed');
    if (m.reason === 'truncated') return m.object_id;
    return `${m.station || ''} ${when(m.docked_unix_nanos)} ${m.listed_by || ''}`;
  };
  return [h('h2', { id: 'missing' }, t('missing')),
    table(['#', t('device'), t('time'), t('file'), t('listed_at_dock'), t('explained_by')],
      missing.map((m) => [String(m.number), m.device, when(m.time_unix_nanos), what(m), listed(m),
        m.explained_by ? m.explained_by : h('strong', { class: 'unexplained' }, t('missing_state'))]))];
}

// Live uploads of the record's devices still recording (doc/live.md).
function liveUploads(r) {
  const live = r.live || [];
  if (!live.length) return [];
  return [h('h2', { id: 'live' }, t('recording_live')),
    table([t('device'), t('file'), t('held_bytes'), t('last_segment'), ''], live.map((l) =>
      [l.device, l.file_name, String(l.held), when(l.last_segment_unix_nanos), l.live_id]))];
}

// Gaps with their explanations, corrections, holds (each released on its own).
function recordDetails(r) {
  const holds = (r.retention || {}).legal_holds || [];
  const release = (hold) => async () => {
    const why = document.getElementById(`release-reason-${hold.id}`).value;
    await decideOnRecord(r, 'custody.v1.Records/Hold', 'record.hold-released',
      { hold: hold.id, reason: why }, { reason: why, release: true, hold_id: hold.id });
  };
  return h('div', {},
    h('h2', {}, t('gaps')),
    table(['#', t('device'), t('from'), t('to'), t('explained_by')], (r.gaps || []).map((g) =>
      [String(g.number), g.device, when(g.from_unix_nanos), when(g.to_unix_nanos), explanation(g)])),
    ...missingFiles(r),
    ...liveUploads(r),
    h('h2', {}, t('corrections')),
    table([t('field'), t('old'), t('new'), t('reason'), t('by'), t('time')], (r.corrections || []).map((c) =>
      [c.field, c.old_value, c.new_value, c.reason, c.by, when(c.time_unix_nanos)])),
    h('h2', {}, t('holds')),
    table(['', t('reason'), t('authority'), t('by'), t('time'), ''], holds.map((x) => [x.id, x.reason,
      x.authority, x.set_by, when(x.set_unix_nanos), h('span', {},
        h('input', { id: `release-reason-${x.id}`, 'aria-label': t('reason') }),
        h('button', { class: 'release-hold', onclick: release(x) }, t('release')))])),
    h('p', {}, `${t('retention')}: ${(r.retention || {}).permanent ? t('permanent')
      : when((r.retention || {}).until_unix_nanos) || '—'}`));
}

// A decision about a record, signed here with the person's key.
async function decideOnRecord(r, method, kind, fields, req) {
  try {
    if (!identity) throw new Error(t('needs_key'));
    const signed = await signDecision(identity, { kind, subject: `record:${r.id}`, fields });
    await call(method, { record_id: r.id, ...req, signed });
    route();
  } catch (e) { fail(e); }
}

function recordActions(r) {
  const input = (id, type = 'text') => h('input', { id, type });
  const val = (id) => document.getElementById(id).value;
  const hex = () => [...crypto.getRandomValues(new Uint8Array(4))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  const submit = (fn) => async (ev) => { ev.preventDefault(); try { await fn(); } catch (e) { fail(e); } };
  const hold = submit(async () => {
    const id = `hold-${hex()}`;
    const fields = { hold: id, reason: val('hold-reason') };
    if (val('hold-authority')) fields.authority = val('hold-authority');
    await decideOnRecord(r, 'custody.v1.Records/Hold', 'record.hold-set', fields,
      { reason: val('hold-reason'), hold_id: id, authority: val('hold-authority') });
  });
  const retain = submit(async () => {
    const permanent = document.getElementById('retain-permanent').checked;
    const until = permanent ? '0' : String(BigInt(Date.parse(val('retain-until'))) * 1000000n);
    const fields = permanent ? { reason: val('retain-reason'), permanent: 'true' }
      : { reason: val('retain-reason'), until };
    await decideOnRecord(r, 'custody.v1.Records/Retain', 'record.retained', fields,
      { reason: val('retain-reason'), permanent, until_unix_nanos: until });
  });
  const noteGap = submit(async () => {
    await call('custody.v1.Records/Note', { record_id: r.id, gap: Number(val('note-gap')), reason: val('note-reason') });
    route();
  });
  const archive = async () => {
    try { await call('custody.v1.Records/Archive', { record_id: r.id }); route(); } catch (e) { fail(e); }
  };
  return h('div', { class: 'actions' },
    h('h2', {}, t('actions')),
    h('form', { class: 'filters', id: 'note-gap', onsubmit: noteGap },
      h('label', {}, t('gap'), input('note-gap', 'number')), h('label', {}, t('reason'), input('note-reason')),
      h('button', { type: 'submit' }, t('note_gap'))),
    h('form', { class: 'filters', id: 'set-hold', onsubmit: hold },
      h('label', {}, t('reason'), input('hold-reason')), h('label', {}, t('authority'), input('hold-authority')),
      h('button', { type: 'submit' }, t('set_hold'))),
    h('form', { class: 'filters', id: 'retain', onsubmit: retain },
      h('label', {}, t('retain_until'), input('retain-until', 'date')),
      h('label', {}, t('permanent'), input('retain-permanent', 'checkbox')),
      h('label', {}, t('reason'), input('retain-reason')), h('button', { type: 'submit' }, t('retain'))),
    h('p', {}, h('button', { id: 'archive', onclick: archive }, t('archive'))));
}

// The chain-of-custody sheet: print it (to PDF) with the browser's dialog.
// The record's history and its grants come as {"error": ...} when they
// could not be read: the sheet says so in their place.
async function sheet(id) {
  const render = page();
  const s = await get(`/api/records/${encodeURIComponent(id)}/sheet`);
  const r = s.record;
  const events = (list) => {
    const proofs = (list || []).some((e) => e.proof);
    const headers = [t('time'), t('node'), t('actor'), t('action'), t('details')];
    return table(proofs ? [...headers, t('proof')] : headers, (list || []).map((e) => {
      const row = [e.time ? whenText(e.time) : when(e.time_unix_nanos), e.node || e.node_id, e.actor,
        e.action, detailsText(e)];
      return proofs ? [...row, proofOf(e.proof)] : row;
    }));
  };
  const history = s.record_history || {};
  const grants = s.grants || {};
  render(
    h('h1', {}, `${t('sheet')}: ${r.archive_number || r.id}`),
    h('p', {}, h('button', { id: 'print', onclick: () => window.print() }, t('print'))),
    table(['', ''], [[t('record'), r.id], [t('archive_number'), r.archive_number || '—'],
      [t('agency'), r.agency], [t('matter'), String(r.matter)], [t('target'), r.target],
      [t('start'), when(r.start_unix_nanos)], [t('end'), when(r.end_unix_nanos)]]),
    (s.objects || []).map((o) => h('section', { class: 'object' },
      h('h2', {}, `${word('kind', o.kind)} ${o.device}`), h('p', { class: 'hash' }, o.id),
      o.error ? problem(`${t('refused')}: ${o.error}`) : h('p', {},
        `${t('proof')}: `, o.proof === 'verified' ? h('span', { class: 'proof-proven' }, t('proof_ok'))
          : h('span', { class: 'proof-failed' }, t('proof_failed')),
        ` (${t('checkpoint')}: ${o.checkpoint.origin}, ${o.checkpoint.size}`,
        o.cosignatures ? `; ${t('cosigned')}: ${o.cosignatures}` : '',
        o.timestamp ? `; ${t('timestamped')}: ${o.timestamp}` : '', ')'),
      (o.problems || []).length ? h('ul', { class: 'problem' }, o.problems.map((x) => h('li', {}, x))) : null,
      o.error ? null : events(o.events))),
    h('section', { id: 'record-history' }, h('h2', {}, t('record_history')),
      history.error ? problem(history.error) : h('div', {}, unreachable(history.unreachable),
        history.truncated ? h('p', { class: 'problem' }, t('truncated')) : null, events(history.events))),
    h('section', { id: 'sheet-grants' }, h('h2', {}, t('approvals')),
      grants.error ? problem(grants.error)
        : table([t('request'), t('requester'), t('reason'), t('state'), t('approvers')],
          (grants.grants || []).map((g) => [g.request_id.slice(0, 16), g.requester, g.reason,
            stateOf(g.state), approversOf(g)]))),
    s.digests ? h('section', { id: 'sheet-digests' }, h('h2', {}, t('sheet_digests')),
      table(['', ''], [['SHA-256', s.digests.sha256], ['SM3', s.digests.sm3]])) : null);
}

// The viewings of an agency's footage in a period: the register's
// object.read events whose details name the agency, one per playback (the
// reads of one playback are one event on each node that served them).
async function viewings(agency, from, to) {
  const r = await call('custody.v1.Audit/Log', { action: 'object.read', from_unix_nanos: from,
    to_unix_nanos: to });
  const seen = new Set();
  for (const e of r.events || []) {
    const d = detailsOf(e);
    if (d.agency !== agency) continue;
    seen.add(d.playback ? `${e.actor}|${e.subject}|${d.playback}` : `${e.node_id || e.node}|${e.seq}`);
  }
  return { count: seen.size, truncated: r.truncated, unreachable: r.unreachable || [] };
}

// The figures of the report, in the table and the CSV, in this order.
const FIGURES = ['records', 'archived', 'archived_on_time', 'overdue', 'late_handovers',
  'explained_gaps', 'unexplained_gaps', 'missing_files', 'explained_missing_files', 'time_mismatches', 'exemptions', 'exemptions_pending',
  'access_requests', 'access_refusals', 'viewings', 'devices_not_checked_in', 'objects_not_offsite',
  'withheld_above_clearance'];
// Those of the chart, each with its colour.
const CHARTED = [['archived_on_time', '#2a9d8f'], ['overdue', '#e63946'], ['explained_gaps', '#e9c46a'],
  ['unexplained_gaps', '#9d0208'], ['exemptions', '#6c757d'], ['viewings', '#457b9d']];

const csvCell = (v) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

// The compliance report of an agency for a period, with a chart (Chart.js
// from Debian's libjs-chart.js, served by the console) and a CSV download.
async function report(params) {
  const render = page();
  const form = h('form', { class: 'filters', id: 'report-form' });
  const field = (name, word_, type = 'text') => h('label', {}, t(word_),
    h('input', { name, type, value: params.get(name) || '' }));
  form.append(field('agency', 'agency'), field('from', 'from', 'date'), field('to', 'to', 'date'),
    h('button', { type: 'submit' }, t('report')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = `#/report?${q}`;
  });
  if (!params.get('agency')) return render(h('h1', {}, t('report')), form);
  const ns = (d) => (d ? String(BigInt(Date.parse(d)) * 1000000n) : '0');
  const from = ns(params.get('from'));
  const to = ns(params.get('to'));
  const [r, seen] = await Promise.all([
    call('custody.v1.Records/MakeReport', { agency: params.get('agency'), from_unix_nanos: from, to_unix_nanos: to }),
    viewings(params.get('agency'), from, to).catch((e) => ({ error: e })),
  ]);
  // A figure the node does not send (an older node) is "—", not 0.
  const figure = (k) => {
    if (k === 'viewings') return seen.error ? null : seen.count;
    return r[k] === undefined ? null : Number(r[k]);
  };
  const shown = (k) => {
    const v = figure(k);
    if (v === null) return '—';
    return k === 'viewings' && seen.truncated ? `${t('at_least')} ${v}` : String(v);
  };
  const rows = FIGURES.map((k) => [t(`fig_${k}`), h('span', { 'data-figure': k }, shown(k))]);
  const csv = ['figure,label,value',
    ...FIGURES.map((k) => [k, t(`fig_${k}`), figure(k) === null ? '' : figure(k)].map(csvCell).join(','))]
    .join('\n');
  const download = h('a', { id: 'report-csv', download: `report-${r.agency}.csv`,
    href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })) }, t('csv'));
  const canvas = h('canvas', { id: 'report-chart', width: 800, height: 300,
    role: 'img', 'aria-label': CHARTED.map(([k]) => `${t(`fig_${k}`)}: ${shown(k)}`).join('; ') });
  render(h('h1', {}, `${t('report')}: ${r.agency}`), form,
    h('p', {}, download, ' ', h('button', { onclick: () => window.print() }, t('print'))),
    seen.error ? h('p', { class: 'problem', id: 'viewings-problem' }, `${t('viewings_failed')} ${problemText(seen.error)}`)
      : unreachable(seen.unreachable),
    h('div', { class: 'chart' }, canvas), table([t('figure'), t('value')], rows),
    h('p', { class: 'muted' }, t('viewings_how')), await spotCheck(params.get('agency'), from, to));
  const { Chart, registerables } = await import('/vendor/chart.esm.js');
  Chart.register(...registerables);
  new Chart(canvas, {
    type: 'bar',
    data: { labels: CHARTED.map(([k]) => t(`fig_${k}`)),
      datasets: [{ label: r.agency, data: CHARTED.map(([k]) => figure(k) || 0),
        backgroundColor: CHARTED.map(([, colour]) => colour) }] },
    options: { animation: false, responsive: false, locale: language() === 'zh' ? 'zh-CN' : 'en-GB',
      plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
  });
}

// A spot check of the report's period (article 25): 20 records drawn with a
// seed from a checkpoint signed after the period ended, each with what
// keeps it from being complete.
async function spotCheck(agency, from, to) {
  const section = h('section', { id: 'spot-check' }, h('h2', {}, t('spot_check')));
  try {
    const s = await call('custody.v1.Records/Sample', { agency, from_unix_nanos: from, to_unix_nanos: to, n: 20 });
    const size = (s.checkpoint || '').split('\n')[1];
    section.append(h('p', {}, `${(s.sampled || []).length} / ${(s.population || []).length}; `,
      `${t('checkpoint')} ${size}, seed ${s.seed}`),
    table([t('record'), t('archive_number'), t('start'), t('state'), t('problems')],
      (s.sampled || []).map((r) => [h('a', { href: `#/record/${r.id}` }, r.id), r.archive_number || '—',
        when(r.start_unix_nanos), h('span', { class: r.status === 'complete' ? 'proof-proven' : 'proof-failed' },
          t(r.status)), (r.problems || []).join(', ')])),
    h('p', { class: 'muted' }, t('spot_check_how')));
  } catch (e) {
    // A period that has not ended has no seed yet: not a problem.
    const later = e instanceof ApiError && e.status === 409;
    section.append(later ? h('p', { class: 'muted', id: 'spot-check-later' }, t('spot_check_later')) : problem(e));
  }
  return section;
}

// Devices with their check-out history.
async function devices() {
  const render = page();
  const r = await call('custody.v1.Records/DeviceList', {});
  render(h('h1', {}, t('devices')),
    table([t('device'), t('agency'), t('model'), t('held_by'), t('history')],
      (r.devices || []).map((d) => [d.id, d.agency, d.model, d.held_by || '—',
        h('span', {}, (d.holdings || []).map((x) => h('div', {},
          `${x.officer}: ${when(x.from_unix_nanos)} → ${when(x.to_unix_nanos) || '…'} ${checks(x.check)}`)))])));
}

// A check-out's "battery=OK storage=OK clock=OK" in words.
function checks(text) {
  return (text || '').split(' ').filter((x) => x).map((x) => {
    const [k, v] = x.split('=');
    return v === undefined ? x : `${word('check', k)} ${v}`;
  }).join(', ');
}

// The docking stations: what each last reported, its quarantine with the
// reasons (and a retry, audited, that the station carries out at its next
// report), and its last uploads with their records.
async function stations() {
  const render = page();
  const r = await call('custody.v1.Records/Stations', {});
  const retry = (station, files) => async () => {
    try {
      const req = files ? { station, files } : { station, all: true };
      const done = await call('custody.v1.Records/StationRetry', req);
      note(`${t('retry_asked')} (${t('nodes_holding')}: ${done.nodes})`);
      const away = unreachable(done.unreachable);
      if (away) fail(away.textContent);
    } catch (e) { fail(e); }
  };
  render(h('h1', {}, t('stations')),
    unreachable(r.unreachable),
    (r.stations || []).length ? null : h('p', { class: 'muted' }, t('nothing')),
    (r.stations || []).map((s) => h('section', { class: 'station', id: `station-${s.station}` },
      h('h2', {}, `${s.station} (${s.reported_by})`),
      h('p', {}, `${t('reported')} ${when(s.received_unix_nanos)}, ${t('received_by')} ${s.node}; ${t('done')} ${s.done}, ` +
        `${t('quarantined')} ${s.quarantined}, ${t('not_filed')} ${s.not_filed}, ${t('in_flight')} ${s.in_flight}`),
      h('h3', {}, t('quarantine')),
      (s.quarantine || []).length ? h('div', {},
        table([t('file'), t('reason'), ''], s.quarantine.map((f) => [f.file, f.reason,
          h('button', { class: 'retry', onclick: retry(s.station, [f.file]) }, t('retry'))])),
        h('button', { class: 'retry-all', onclick: retry(s.station, null) }, t('retry_all')))
        : h('p', { class: 'muted' }, t('nothing')),
      h('h3', {}, t('recent')),
      table([t('time'), t('file'), '', t('record')], (s.recent_done || []).map((f) => [
        when(f.time_unix_nanos), f.file, f.id,
        f.filing_problem ? h('span', { class: 'flag' }, `${t('not_filed')}: ${f.filing_problem}`)
          : h('a', { href: `#/record/${f.record}` }, f.record)])))));
}

// Purging expired records (article 19): the records whose retention has
// ended, the purge requests; an archive-head other than the requester
// approves (signed here), then the purge is executed.
async function purges() {
  const render = page();
  const c = await call('custody.v1.Records/PurgeCandidates', {});
  const reason = h('input', { id: 'purge-reason' });
  const ask = async (ev) => {
    ev.preventDefault();
    try { await call('custody.v1.Records/RequestPurge', { reason: reason.value }); route(); } catch (e) { fail(e); }
  };
  const approve = (p) => async () => {
    try {
      if (!identity) throw new Error(t('needs_key'));
      const signed = await signDecision(identity,
        { kind: 'purge.approved', subject: `purge:${p.request_id}`, fields: {} });
      await call('custody.v1.Records/ApprovePurge', { request_id: p.request_id, signed });
      route();
    } catch (e) { fail(e); }
  };
  const execute = (p) => async () => {
    try { await call('custody.v1.Records/ExecutePurge', { request_id: p.request_id }); route(); } catch (e) { fail(e); }
  };
  render(h('h1', {}, t('purges')),
    h('h2', {}, `${t('expired')} (${(c.records || []).length})`), recordsTable(c.records || []),
    (c.records || []).length ? h('form', { class: 'filters', id: 'request-purge', onsubmit: ask },
      h('label', {}, t('reason'), reason), h('button', { type: 'submit' }, t('request_purge'))) : null,
    h('h2', {}, t('purge_requests')),
    table([t('request'), t('records'), t('reason'), t('requester'), t('approvers'), t('state'), ''],
      (c.requests || []).map((p) => [p.request_id, (p.records || []).join(', '), p.reason, p.requested_by,
        p.approved_by || '—', stateOf(p.state),
        p.state === 'pending' ? h('button', { class: 'approve-purge', onclick: approve(p) }, t('approve'))
          : p.state === 'approved' ? h('button', { class: 'execute-purge', onclick: execute(p) }, t('execute'))
            : when(p.executed_unix_nanos)])));
}

const gib = (b) => `${(Number(b || 0) / 2 ** 30).toFixed(1)} GiB`;

// Nodes, zones, space, under-replicated copies, last scrub; offsite snapshots.
async function cluster() {
  const render = page();
  const c = await call('custody.v1.Custody/ClusterStatus', {});
  let snaps;
  try { snaps = (await call('custody.v1.Snapshots/ListSnapshots', {})).snapshots || []; } catch (e) { snaps = e; }
  const now = c.under_replication_now;  // the live estimate (doc/cluster.md, "Honest status")
  render(h('h1', {}, t('health')),
    h('p', {}, `${t('replication_factor')}: ${c.replication_factor}; ${t('map_version')} ${c.map_version}; ` +
      `${t('answered_by')} ${c.answered_by}`),
    now ? h('p', { id: 'under-now' }, `${t('under_replicated')}: ${now.copies || '0'} `,
      h('span', { class: 'muted' }, `(${t('measured')} ${when(now.measured_unix_nanos)})`)) : null,
    now && (now.reasons || []).length ? h('ul', {}, ...now.reasons.map((r) => h('li', {}, r))) : null,
    table([t('node'), t('zone'), t('up'), t('objects_n'), t('used'), t('free'), t('under_replicated'), t('last_scrub')],
      (c.nodes || []).map((n) => {
        const st = n.status || {};
        return [n.id, n.zone, n.up ? (st.read_only ? `✓ ${t('read_only')}: ${st.read_only}` : '✓') : `✗ ${n.error || ''}`, st.objects || '', gib(st.volume_bytes),
          gib(st.free_bytes), (st.under_replication_now || {}).copies || st.under_replicated || '0',
          st.last_scrub ? when(st.last_scrub.finished_unix_nanos) : '—'];
      })),
    h('h2', {}, t('offsite')),
    snaps instanceof Error ? problem(snaps)
      : table(['', t('time'), t('objects_n'), t('size'), t('receipt')], snaps.map((x) => [x.id,
        when(x.created_unix_nanos), x.objects, gib(x.data_bytes),
        x.receipt_peer ? `${x.receipt_peer} ${when(x.receipt_unix_nanos)}` : '—'])));
}

function grantsTable(grants, withActions) {
  if (!grants.length) return h('p', { class: 'muted' }, t('nothing'));
  const decide = (g, approve) => async () => {
    try {
      if (!identity) throw new Error(t('needs_key'));
      const kind = approve ? 'access.approved' : 'access.denied';
      const signed = await signDecision(identity,
        { kind, subject: `request:${g.request_id}`, fields: { request: g.request_id } });
      await call('custody.v1.Access/Decide', { request_id: g.request_id, approve, signed });
      route();
    } catch (e) { fail(e); }
  };
  return table([t('request'), t('record'), t('requester'), t('reason'), t('purpose'), t('state'), ''],
    grants.map((g) => [g.request_id.slice(0, 16), g.record_id || g.object_id, g.requester, g.reason,
      word('purpose', g.purpose), stateOf(g.state), withActions ? h('span', {},
        h('button', { class: 'approve', onclick: decide(g, true) }, t('approve')), ' ',
        h('button', { class: 'deny', onclick: decide(g, false) }, t('deny'))) : '']));
}

async function approvals() {
  const render = page();
  const inbox = await allGrants({ waiting_for_me: true });
  render(h('h1', {}, t('approvals')), grantsTable(inbox.grants || [], true));
}

async function register(params) {
  const render = page();
  const form = h('form', { class: 'filters', id: 'register-filter' });
  const field = (name, word, type = 'text') => h('label', {}, t(word),
    h('input', { name, type, value: params.get(name) || '' }));
  form.append(field('actor', 'actor'), field('action', 'action'), field('subject', 'subject'),
    field('from', 'from', 'date'), field('to', 'to', 'date'), h('button', { type: 'submit' }, t('filter')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = `#/register?${q}`;
  });
  const ns = (d) => (d ? String(BigInt(Date.parse(d)) * 1000000n) : '0');
  const r = await post('/api/register', {
    subject: params.get('subject') || '', actor: params.get('actor') || '',
    action: params.get('action') || '', from_unix_nanos: ns(params.get('from')),
    to_unix_nanos: ns(params.get('to')), limit: 2000,
  });
  render(h('h1', {}, t('register')), form, unreachable(r.unreachable),
    r.truncated ? h('p', { class: 'problem' }, t('truncated')) : null,
    table([t('time'), t('node'), t('actor'), t('action'), t('subject'), t('details'), t('proof')],
      (r.events || []).map((e) => [whenText(e.time), e.node, e.actor, e.action, e.subject,
        detailsText(e), proofOf(e.proof)])));
}

function play(id) {
  const playback = [...crypto.getRandomValues(new Uint8Array(8))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  const video = h('video', { id: 'player', controls: true, preload: 'metadata',
    src: `/api/objects/${id}/content?playback=${playback}` });
  const mark = h('div', { class: 'watermark', id: 'watermark' });
  const tick = () => { mark.textContent = `${t('watermark')} ${session.user} · ${dateTime(Date.now())}`; };
  tick();
  const timer = setInterval(() => { if (!document.body.contains(mark)) clearInterval(timer); else tick(); }, 1000);
  video.addEventListener('error', async () => {
    // Why the video cannot play: the console's answer to one byte of it.
    const r = await fetch(`/api/objects/${id}/content?playback=${playback}`,
      { headers: { Range: 'bytes=0-0' }, credentials: 'same-origin' });
    if (!r.ok) {
      const b = await r.json().catch(() => ({}));
      fail(new ApiError(r.status, b.code || `HTTP ${r.status}`, b.message || r.statusText));
    }
  });
  show(main, h('h1', {}, id), h('div', { class: 'player' }, video, mark));
  main.dataset.page = 'play';
}

// Pages load concurrently when the reader moves on before one has loaded
// (or a sign-in routes while a link is followed): each route() starts a
// generation, and a page shows itself only if no later route began.
// The page shown says which it is in main's data-page (for tests).
let routeGen = 0;
let routeName = '';
function page() {
  const gen = routeGen;
  const name = routeName;
  return (...children) => {
    if (gen !== routeGen) return;
    show(main, ...children);
    main.dataset.page = name;
  };
}

async function route() {
  const gen = ++routeGen;
  header();
  note('');
  if (!session) {
    try {
      const s = await get('/api/session');  // a 401 forgets a kept key (expired())
      identity = (await loadIdentity().catch(() => null)) || null;
      if (identity && identity.user !== s.user) identity = null;
      started(s);
      return;
    } catch (e) { if (gen === routeGen) signInPage(); return; }
  }
  const [path, query] = (location.hash.slice(1) || '/home').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter((x) => x);
  routeName = parts[0] || 'home';
  try {
    if (parts[0] === 'records') await records(params);
    else if (parts[0] === 'record') await record(decodeURIComponent(parts[1]));
    else if (parts[0] === 'approvals') await approvals();
    else if (parts[0] === 'register') await register(params);
    else if (parts[0] === 'play') play(decodeURIComponent(parts[1]));
    else if (parts[0] === 'sheet') await sheet(decodeURIComponent(parts[1]));
    else if (parts[0] === 'report') await report(params);
    else if (parts[0] === 'devices') await devices();
    else if (parts[0] === 'cluster') await cluster();
    else if (parts[0] === 'stations') await stations();
    else if (parts[0] === 'purges') await purges();
    else await home();
  } catch (e) {
    if (gen !== routeGen) return;  // a later page is showing
    show(main, problem(e));
    main.dataset.page = routeName;
    fail(e);
  }
}

window.addEventListener('hashchange', route);
route();
