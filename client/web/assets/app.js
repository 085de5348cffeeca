// The console's pages (doc/console.md). Hash routes: #/home, #/records,
// #/record/ID, #/approvals, #/register, #/play/OBJECT.
import { ApiError, call, get, post, setCsrf } from './api.js';
import { h, show, table, when } from './dom.js';
import { language, setLanguage, t } from './i18n.js';
import { forgetIdentity, importKey, loadIdentity, saveIdentity, sign, base64, signDecision }
  from './sign.js';

const main = document.getElementById('main');
const top = document.getElementById('top');
let session = null;   // {user, principal, csrf, expires}
let identity = null;  // {user, certificate, key}: decisions are signed with it

function fail(e) {
  const box = document.getElementById('error');
  box.textContent = e instanceof ApiError ? `${t('refused')}: ${e.code}: ${e.message}` : String(e);
  box.hidden = false;
  setTimeout(() => { box.hidden = true; }, 8000);
  if (e instanceof ApiError && e.status === 401) { session = null; route(); }
}

function note(text) {
  document.getElementById('note').textContent = text;
}

function header() {
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
  const [inbox, overdue] = await Promise.all([
    allGrants({ waiting_for_me: true }).catch(() => ({ grants: [] })),
    call('custody.v1.Records/List', { overdue: true, page_size: 20 }).catch(() => ({ records: [] })),
  ]);
  let cluster = null;
  try { cluster = await call('custody.v1.Custody/ClusterStatus', {}); } catch (e) { cluster = e; }
  let quarantined = [];
  try {
    quarantined = ((await call('custody.v1.Records/Stations', {})).stations || [])
      .filter((x) => (x.quarantine || []).length > 0);
  } catch (e) { quarantined = []; }
  let offsite = null;  // the last snapshot with a receipt, for those who may see it
  try {
    const snaps = (await call('custody.v1.Snapshots/ListSnapshots', {})).snapshots || [];
    offsite = snaps.filter((x) => x.receipt_peer).pop() || 'none';
  } catch (e) { offsite = null; }
  render(
    h('h1', {}, t('home')),
    h('h2', {}, `${t('pending')} (${(inbox.grants || []).length})`), grantsTable(inbox.grants || [], false),
    h('h2', {}, `${t('overdue')} (${(overdue.records || []).length})`), recordsTable(overdue.records || []),
    h('h2', {}, `${t('stations_quarantine')} (${quarantined.length})`),
    quarantined.length ? h('ul', {}, quarantined.map((x) => h('li', {},
      h('a', { href: '#/stations' }, `${x.station}: ${(x.quarantine || []).length}`))))
      : h('p', { class: 'muted' }, t('nothing')),
    h('h2', {}, t('health')),
    cluster instanceof Error ? h('p', {}, `${t('unavailable')} ${cluster.message}`)
      : table([t('node'), 'up', 'zone'], (cluster.nodes || []).map((n) =>
        [n.id || n.node_id || '', n.up ? '✓' : `✗ ${n.error || ''}`, n.zone || ''])),
    offsite && h('h2', {}, t('offsite')),
    offsite && h('p', { id: 'last-receipt' }, offsite === 'none' ? t('nothing')
      : `${t('receipt')}: ${offsite.id}, ${offsite.receipt_peer}, ${when(offsite.receipt_unix_nanos)}`));
}

function recordsTable(records) {
  if (!records.length) return h('p', { class: 'muted' }, t('nothing'));
  return table([t('record'), t('archive_number'), t('agency'), t('matter'), t('target'), t('start'), t('flags')],
    records.map((r) => [h('a', { href: `#/record/${r.id}` }, r.id), r.archive_number, r.agency,
      String(r.matter), r.target, when(r.start_unix_nanos),
      h('span', {}, (r.flags || []).map((f) => h('span', { class: 'flag' }, f)))]));
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
  render(h('h1', {}, t('records')), form, h('p', {}, `${r.total || 0}`),
    recordsTable(r.records || []), next);
}

function timeline(r) {
  const start = Number(BigInt(r.start_unix_nanos || '0') / 1000000n);
  const ends = (r.segments || []).map((s) => Number(BigInt(s.end_unix_nanos || '0') / 1000000n));
  const end = Math.max(Number(BigInt(r.end_unix_nanos || '0') / 1000000n), ...ends, start + 1);
  const bar = h('div', { class: 'timeline', role: 'img', 'aria-label': t('segments') });
  const place = (el, from, to) => {
    el.style.left = `${(100 * (from - start)) / (end - start)}%`;
    el.style.width = `${Math.max(0.3, (100 * (to - from)) / (end - start))}%`;
    bar.append(el);
  };
  for (const s of r.segments || []) {
    if (!s.start_unix_nanos || s.start_unix_nanos === '0') continue;
    place(h('div', { class: 'seg', title: `${s.device} ${s.object_id}` }),
      Number(BigInt(s.start_unix_nanos) / 1000000n), Number(BigInt(s.end_unix_nanos || s.start_unix_nanos) / 1000000n));
  }
  for (const g of r.gaps || []) {
    place(h('div', { class: 'gap', title: `${t('gap')} ${g.number}: ${g.explained_by || ''}` }),
      Number(BigInt(g.from_unix_nanos) / 1000000n), Number(BigInt(g.to_unix_nanos) / 1000000n));
  }
  return bar;
}

async function record(id) {
  const render = page();
  const r = await call('custody.v1.Records/Show', { record_id: id });
  const reason = h('input', { id: 'access-reason', required: true });
  const ask = async (ev) => {
    ev.preventDefault();
    try {
      const g = await call('custody.v1.Access/RequestAccess', { record_id: r.id, reason: reason.value });
      note(`${t('request')} ${g.request_id.slice(0, 16)}: ${g.state}`);
    } catch (e) { fail(e); }
  };
  render(
    h('h1', {}, `${t('record')} ${r.id}`),
    table(['', ''], [[t('archive_number'), r.archive_number || '—'], [t('agency'), r.agency],
      [t('matter'), String(r.matter)], [t('target'), r.target], [t('officer'), (r.officers || []).join(', ')],
      [t('device'), (r.devices || []).join(', ')], [t('start'), when(r.start_unix_nanos)],
      [t('end'), when(r.end_unix_nanos)], [t('flags'), (r.flags || []).join(', ')],
      [t('holds'), ((r.retention || {}).legal_holds || []).map((x) => `${x.id} ${x.reason}`).join('; ')]]),
    h('h2', {}, t('segments')), timeline(r),
    h('h2', {}, t('objects')),
    table(['', t('device'), t('start'), t('end'), t('clock'), t('held_by'), ''], (r.segments || []).map((s) => [
      s.kind, s.device, when(s.start_unix_nanos), when(s.end_unix_nanos),
      s.clock_flagged ? h('span', { class: 'flag' }, `${s.clock_skew_seconds} s`)
        : (Number(s.clock_skew_seconds) ? `${s.clock_skew_seconds} s` : '✓'),
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
  try { grants = (await allGrants({ record_id: r.id })).grants; } catch (e) { return; }
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
      grants.map((g) => [g.request_id.slice(0, 16), g.requester, g.reason, g.purpose, g.state,
        (g.approvals || []).map((a) => `${a.by} (${a.role})`).join(', '),
        g.state === 'granted' ? h('span', {},
          h('input', { id: `revoke-reason-${g.request_id}`, 'aria-label': t('reason') }),
          h('button', { class: 'revoke', onclick: revoke(g) }, t('revoke'))) : ''])));
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
      [String(g.number), g.device, when(g.from_unix_nanos), when(g.to_unix_nanos), g.explained_by || '—'])),
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
async function sheet(id) {
  const render = page();
  const s = await get(`/api/records/${encodeURIComponent(id)}/sheet`);
  const r = s.record;
  const events = (list) => table([t('time'), t('node'), t('actor'), t('action'), t('details')],
    (list || []).map((e) => [e.time || when(e.time_unix_nanos), e.node || e.node_id, e.actor, e.action,
      Object.entries(e.details || {}).map(([k, v]) => (typeof v === 'object' ? `${v.key}=${v.value}` : `${k}=${v}`)).join(' ')]));
  render(
    h('h1', {}, `${t('sheet')}: ${r.archive_number || r.id}`),
    h('p', {}, h('button', { id: 'print', onclick: () => window.print() }, t('print'))),
    table(['', ''], [[t('record'), r.id], [t('archive_number'), r.archive_number || '—'],
      [t('agency'), r.agency], [t('matter'), String(r.matter)], [t('target'), r.target],
      [t('start'), when(r.start_unix_nanos)], [t('end'), when(r.end_unix_nanos)]]),
    (s.objects || []).map((o) => h('section', { class: 'object' },
      h('h2', {}, `${o.kind} ${o.device}`), h('p', { class: 'hash' }, o.id),
      h('p', {}, o.error ? `${t('refused')}: ${o.error}` :
        `${t('proof')}: ${o.proof === 'verified' ? t('proof_ok') : t('proof_failed')} ` +
        `(${o.checkpoint.origin}, ${o.checkpoint.size})`),
      events(o.events))),
    h('h2', {}, t('record_history')), events((s.record_history || {}).events),
    h('h2', {}, t('approvals')),
    table([t('request'), t('requester'), t('reason'), t('state'), t('approvers')],
      ((s.grants || {}).grants || []).map((g) => [g.request_id.slice(0, 16), g.requester, g.reason,
        g.state, (g.approvals || []).map((a) => `${a.by} (${a.role})`).join(', ')])));
}

// The compliance report of an agency for a period, with a chart (Chart.js
// from Debian's libjs-chart.js, served by the console) and a CSV download.
async function report(params) {
  const render = page();
  const form = h('form', { class: 'filters', id: 'report-form' });
  const field = (name, word, type = 'text') => h('label', {}, t(word),
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
  const r = await call('custody.v1.Records/MakeReport', {
    agency: params.get('agency'), from_unix_nanos: ns(params.get('from')), to_unix_nanos: ns(params.get('to')),
  });
  const rows = ['records', 'archived', 'archived_on_time', 'overdue', 'late_handovers',
    'unexplained_gaps', 'time_mismatches', 'exemptions', 'exemptions_pending', 'access_requests',
    'access_refusals', 'devices_not_checked_in', 'objects_not_offsite', 'withheld_above_clearance']
    .map((k) => [k, String(r[k] || 0)]);
  const csv = ['figure,value', ...rows.map(([k, v]) => `${k},${v}`)].join('\n');
  const download = h('a', { id: 'report-csv', download: `report-${r.agency}.csv`,
    href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })) }, 'CSV');
  const canvas = h('canvas', { id: 'report-chart', width: 800, height: 300 });
  render(h('h1', {}, `${t('report')}: ${r.agency}`), form,
    h('p', {}, download, ' ', h('button', { onclick: () => window.print() }, t('print'))),
    h('div', { class: 'chart' }, canvas), table([t('figure'), t('value')], rows));
  const { Chart, registerables } = await import('/vendor/chart.esm.js');
  Chart.register(...registerables);
  const keys = ['archived_on_time', 'overdue', 'late_handovers', 'unexplained_gaps', 'exemptions',
    'access_requests'];
  new Chart(canvas, {
    type: 'bar',
    data: { labels: keys, datasets: [{ label: r.agency, data: keys.map((k) => Number(r[k] || 0)),
      backgroundColor: '#457b9d' }] },
    options: { animation: false, responsive: false, plugins: { legend: { display: false } } },
  });
}

// Devices with their check-out history.
async function devices() {
  const render = page();
  const r = await call('custody.v1.Records/DeviceList', {});
  render(h('h1', {}, t('devices')),
    table([t('device'), t('agency'), t('model'), t('held_by'), t('history')],
      (r.devices || []).map((d) => [d.id, d.agency, d.model, d.held_by || '—',
        h('span', {}, (d.holdings || []).map((x) => h('div', {},
          `${x.officer}: ${when(x.from_unix_nanos)} → ${when(x.to_unix_nanos) || '…'} ${x.check || ''}`)))])));
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
      note(`${t('retry_asked')} (${done.nodes})`);
    } catch (e) { fail(e); }
  };
  render(h('h1', {}, t('stations')),
    (r.unreachable || []).length ? h('p', { class: 'muted' }, `${t('unavailable')} ${r.unreachable.join('; ')}`) : null,
    (r.stations || []).length ? null : h('p', { class: 'muted' }, t('nothing')),
    (r.stations || []).map((s) => h('section', { class: 'station', id: `station-${s.station}` },
      h('h2', {}, `${s.station} (${s.reported_by})`),
      h('p', {}, `${t('reported')} ${when(s.received_unix_nanos)} → ${s.node}; ${t('done')} ${s.done}, ` +
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
        f.filing_problem ? `NOT FILED: ${f.filing_problem}` : f.record])))));
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
        p.approved_by || '—', p.state,
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
    h('p', {}, `R = ${c.replication_factor}, map ${c.map_version}, ${c.answered_by}`),
    now ? h('p', { id: 'under-now' }, `${t('under_replicated')}: ${now.copies || '0'} `,
      h('span', { class: 'muted' }, `(${t('measured')} ${when(now.measured_unix_nanos)})`)) : null,
    now && (now.reasons || []).length ? h('ul', {}, ...now.reasons.map((r) => h('li', {}, r))) : null,
    table([t('node'), 'zone', 'up', t('objects_n'), t('used'), t('free'), t('under_replicated'), t('last_scrub')],
      (c.nodes || []).map((n) => {
        const st = n.status || {};
        return [n.id, n.zone, n.up ? (st.read_only ? `✓ ${t('read_only')}: ${st.read_only}` : '✓') : `✗ ${n.error || ''}`, st.objects || '', gib(st.volume_bytes),
          gib(st.free_bytes), (st.under_replication_now || {}).copies || st.under_replicated || '0',
          st.last_scrub ? when(st.last_scrub.finished_unix_nanos) : '—'];
      })),
    h('h2', {}, t('offsite')),
    snaps instanceof Error ? h('p', { class: 'muted' }, snaps.message)
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
      g.purpose, g.state, withActions ? h('span', {},
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
  render(h('h1', {}, t('register')), form,
    r.truncated ? h('p', { class: 'muted' }, t('truncated')) : null,
    table([t('time'), t('node'), t('actor'), t('action'), t('subject'), t('details'), t('proof')],
      (r.events || []).map((e) => [e.time, e.node, e.actor, e.action, e.subject,
        Object.entries(e.details || {}).map(([k, v]) => `${k}=${v}`).join(' '),
        h('span', { class: `proof-${e.proof.replace(' ', '-')}` }, t(`proof_${e.proof.replace(' ', '_')}`))])));
}

function play(id) {
  const playback = [...crypto.getRandomValues(new Uint8Array(8))]
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  const video = h('video', { id: 'player', controls: true, preload: 'metadata',
    src: `/api/objects/${id}/content?playback=${playback}` });
  const mark = h('div', { class: 'watermark', id: 'watermark' });
  const tick = () => { mark.textContent = `${t('watermark')} ${session.user} · ${new Date().toLocaleString()}`; };
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
}

// Pages load concurrently when the reader moves on before one has loaded
// (or a sign-in routes while a link is followed): each route() starts a
// generation, and a page shows itself only if no later route began.
let routeGen = 0;
function page() {
  const gen = routeGen;
  return (...children) => { if (gen === routeGen) show(main, ...children); };
}

async function route() {
  const gen = ++routeGen;
  header();
  note('');
  if (!session) {
    try {
      started(await get('/api/session'));
      identity = (await loadIdentity()) || null;
      if (identity && identity.user !== session.user) identity = null;
      return;
    } catch (e) { if (gen === routeGen) signInPage(); return; }
  }
  const [path, query] = (location.hash.slice(1) || '/home').split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter((x) => x);
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
    show(main, h('p', { class: 'muted' }, e.message));
    fail(e);
  }
}

window.addEventListener('hashchange', route);
route();
