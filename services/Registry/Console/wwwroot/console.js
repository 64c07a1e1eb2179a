// The Ctm console: reads the Registry's APIs (and, through /console/api, the Validator's, the Trainer's and the
// Predictor replicas'), and reloads what it shows when the Registry's event stream says its record changed.
'use strict';

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const state = { dataset: null, version: null, batch: null, loading: null, again: false, user: null, predictors: null };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') node.className = v; else if (k.startsWith('data-')) node.setAttribute(k, v); else node[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

async function get(url, accept) {
  const r = await fetch(url, { headers: { Accept: accept || 'application/json' } });
  if (r.status === 404) return null;
  // The session ended (expired, or its key was revoked): start again from the sign-in.
  if (r.status === 401) { location.reload(); throw new Error('signed out'); }
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return accept && accept.includes('svg') ? r.text() : r.json();
}

const time = (t) => t ? new Date(t).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '';
// Ids are time-ordered (their heads repeat), so the tail tells batches apart, as in the lineage picture.
const short = (id) => String(id).slice(-8);
function say(text) { $('status').textContent = text; if (text) setTimeout(() => { if ($('status').textContent === text) $('status').textContent = ''; }, 6000); }

async function loadDatasets() {
  const names = await get('/console/api/datasets');
  const select = $('dataset');
  const wanted = new URLSearchParams(location.search).get('dataset') || state.dataset || names[0] || null;
  select.replaceChildren(...names.map((n) => el('option', { value: n, selected: n === wanted }, n)));
  if (wanted && wanted !== state.dataset) { state.dataset = wanted; state.version = null; }
}

// One refresh at a time; an event during a refresh asks for one more afterwards.
async function refresh() {
  if (state.loading) { state.again = true; return state.loading; }
  state.loading = (async () => {
    try {
      await loadDatasets();
      if (state.dataset) await Promise.all([timeline(), lineage(), quarantine(), serving(), runs(), batches()]);
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (e) { say(e.message); }
  })();
  await state.loading;
  state.loading = null;
  if (state.again) { state.again = false; await refresh(); }
}

// A version's training-time metrics beside its live quality (test-then-train, and served predictions joined to labels per role).
function quality(v) {
  if (!v) return null;
  const num = (x) => typeof x === 'number' ? x.toFixed(3) : '—';
  const trained = Object.entries(v.metrics || {}).filter(([k, x]) => typeof x === 'number' && ['log_loss', 'accuracy', 'roc_auc', 'rmse'].includes(k))
    .map(([k, x]) => `${k} ${num(x)}`).join(' · ');
  const live = v.liveQuality === null || v.liveQuality === undefined
    ? [`live: unknown (${v.liveQualityProblem || 'not asked'})`]
    : v.liveQuality.map((l) => `${l.source === 'served' ? `served as ${l.role}` : 'test-then-train'}: ${l.metric} ${num(l.value)}${typeof l.accuracy === 'number' ? ` · accuracy ${num(l.accuracy)}` : ''} (${l.rows} rows)`);
  return el('span', { class: 'quality', 'data-version': v.version }, `trained: ${trained || '—'}`,
    ...(live.length ? live : ['live: nothing scored yet']).map((t) => [el('br'), t]));
}

async function timeline() {
  const d = enc(state.dataset);
  const [history, audit, versions] = await Promise.all([get(`/v1/datasets/${d}/serving/history`), get(`/v1/datasets/${d}/audit`), get(`/v1/datasets/${d}/versions`)]);
  const byVersion = new Map((versions || []).map((v) => [v.version, v]));
  const items = (history || []).map((p) => ({
    at: p.promotedAt, kind: p.reason && p.reason.startsWith('rollback') ? 'rollback' : 'promotion', cls: 'promotion',
    title: `v${p.version} serving (generation ${p.generation})${p.endedAt ? `, until ${time(p.endedAt)}` : ', now'}`, who: p.actor, why: p.reason,
    quality: quality(byVersion.get(p.version)),
  }));
  // Versions never promoted (a canary, a shadow, a rejected candidate) still show how they did.
  const promoted = new Set((history || []).map((p) => p.version));
  for (const v of versions || []) {
    if (!promoted.has(v.version)) items.push({ at: v.createdAt, kind: 'version', cls: 'action', title: `v${v.version} registered (${v.decision || v.origin})`, who: v.uploadedBy || 'trainer', why: '', quality: quality(v) });
  }
  const shown = { rollback: 'rollback', 'rollback-refused': 'refused', approve: 'approve', reject: 'reject', 'upload-model': 'upload', 'upload-refused': 'refused',
    'promotion-refused': 'refused', 'replica-refused': 'refused', 'set-policy': 'policy' };
  for (const a of audit || []) {
    if (!(a.action in shown)) continue;
    const x = a.details || {};
    const o = x.outcome || x;
    const title = a.action === 'rollback'
      ? `rollback v${o.previousVersion ?? '?'} → v${o.servingVersion ?? '?'}${o.taintedVersions && o.taintedVersions.length ? `; tainted v${o.taintedVersions.join(', v')}` : ''}`
      : a.action === 'approve' || a.action === 'reject' ? `${a.action} v${x.version}`
        : a.action === 'upload-model' ? `uploaded v${x.version}` : a.action === 'set-policy' ? 'promotion policy changed' : `${a.action}${x.version ? ` v${x.version}` : ''}`;
    items.push({ at: a.at, kind: shown[a.action], cls: a.action === 'rollback' ? 'rollback' : shown[a.action] === 'refused' ? 'refused' : 'action', title, who: a.actor, why: o.reason || x.reason || o.message || '' });
  }
  items.sort((a, b) => new Date(b.at) - new Date(a.at));
  $('timeline').replaceChildren(...(items.length ? items.map((i) => el('li', { class: i.cls, 'data-kind': i.kind },
    el('span', { class: 'when' }, time(i.at)), el('span', { class: 'kind' }, i.kind),
    el('span', {}, i.title, el('br'), el('span', { class: 'who' }, `${i.who || 'unknown'}: `), el('span', { class: 'why' }, i.why || ''),
      i.quality ? [el('br'), i.quality] : null))) : [el('li', { class: 'muted' }, 'no promotion yet')]));
}

async function lineage() {
  const d = enc(state.dataset);
  const versions = (await get(`/v1/datasets/${d}/versions`)) || [];
  const select = $('version');
  if (!versions.some((v) => v.version === state.version)) state.version = versions.length ? versions[versions.length - 1].version : null;
  select.replaceChildren(...versions.map((v) => el('option', { value: v.version, selected: v.version === state.version }, `v${v.version}${v.tainted ? ' (tainted)' : ''}`)));
  $('lineage-svg').innerHTML = versions.length ? await get(`/v1/datasets/${d}/lineage.svg`, 'image/svg+xml') : '';
  if (state.version === null) { $('lineage-detail').replaceChildren(el('span', { class: 'muted' }, 'no version registered yet')); return; }
  const l = await get(`/v1/datasets/${d}/versions/${state.version}/lineage`);
  if (!l) return;
  $('lineage-detail').replaceChildren(
    el('div', {}, `v${l.version} · ${l.origin} · ${l.task} · schema ${l.schemaVersion ?? '?'} · parent chain: `,
      l.parentChain.length ? l.parentChain.map((p, i) => el('span', { class: p.tainted ? 'tainted' : '' }, `${i ? ' ← ' : ''}v${p.version}`)) : 'none',
      l.tainted ? el('span', { class: 'tainted' }, ` · tainted: ${l.taintReason || ''}`) : ''),
    el('div', { class: 'muted' }, `batches: ${l.batches.map((b) => `${short(b.batchId)} (${b.status})`).join(', ') || 'none'}`));
}

async function quarantine() {
  const list = (await get(`/console/api/datasets/${enc(state.dataset)}/quarantine`)) || [];
  $('quarantine').replaceChildren(...(list.length ? list.map((b) => el('div', { class: 'batch', 'data-batch': b.batchId },
    el('div', {}, el('strong', {}, short(b.batchId)), ` · ${b.rowCount} rows · schema ${b.schemaVersion} · ${time(b.decidedAt)}`),
    el('ul', { class: 'reasons' }, (b.reasons || []).map((r) => el('li', {}, `${r.kind}${r.feature ? ` (${r.feature})` : ''}: ${r.description}`))),
    el('div', { class: 'actions' },
      el('button', { class: 'release', type: 'button', onclick: () => act(b, 'release') }, 'Release…'),
      el('button', { class: 'discard', type: 'button', onclick: () => act(b, 'discard') }, 'Discard…'),
      el('button', { class: 'inspect', type: 'button', onclick: () => showBatch(b.batchId) }, 'Histograms'),
      el('a', { href: `/console/api/batches/${b.batchId}/drift.svg`, target: '_blank' }, 'drift')))) : [el('p', { class: 'muted' }, 'nothing in quarantine')]));
}

// Release or discard: the dialog wants a reason and an explicit confirmation before it sends anything; the Validator records the signed-in key as the operator.
function act(batch, action) {
  const dialog = $('confirm');
  $('confirm-title').textContent = `${action === 'release' ? 'Release' : 'Discard'} batch ${batch.batchId}?`;
  $('confirm-check-text').textContent = action === 'release'
    ? 'I confirm: this batch goes on to training despite its anomalies.' : 'I confirm: this batch is dropped for good.';
  $('confirm-reason').value = '';
  $('confirm-check').checked = false;
  $('confirm-error').textContent = '';
  $('confirm-who').textContent = `as ${state.user.name}${state.user.roles.includes('operator') ? '' : ' (this key is not an operator\'s: the Validator will refuse)'}`;
  const ok = $('confirm-ok');
  const update = () => { ok.disabled = !($('confirm-check').checked && $('confirm-reason').value.trim()); };
  for (const id of ['confirm-check', 'confirm-reason']) $(id).oninput = update;
  update();
  $('confirm-cancel').onclick = () => dialog.close();
  $('confirm-form').onsubmit = async (e) => {
    e.preventDefault();
    ok.disabled = true;
    const r = await fetch(`/console/api/batches/${batch.batchId}/${action}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ reason: $('confirm-reason').value.trim() }),
    });
    if (!r.ok) {
      const p = await r.json().catch(() => ({}));
      $('confirm-error').textContent = p.detail || p.title || `failed: ${r.status}`;
      update();
      return;
    }
    const done = await r.json();
    dialog.close();
    say(`batch ${short(batch.batchId)} ${done.status}`);
    await refresh();
  };
  dialog.showModal();
}

async function serving() {
  const r = await fetch(`/v1/datasets/${enc(state.dataset)}/serving`);
  const s = r.ok || r.status === 404 ? await r.json() : {};
  $('serving-now').textContent = r.ok ? `serving v${s.version}` : (s.pending ? `waiting for v${s.pending.version}` : 'not serving');
  const replicas = s.replicas || [];
  $('replicas').tBodies[0].replaceChildren(...(replicas.length ? replicas.map((x) => el('tr', { 'data-replica': x.replica },
    el('td', {}, x.replica), el('td', { class: x.live ? '' : 'tainted' }, x.live ? 'yes' : 'no'), el('td', {}, x.version ? `v${x.version}` : '—'),
    el('td', {}, time(x.since)), el('td', {}, x.lastRefusal ? `v${x.lastRefusal.version}: ${x.lastRefusal.kind} ${x.lastRefusal.reason}` : '')))
    : [el('tr', {}, el('td', { colSpan: 5, class: 'muted' }, 'no replica has reported'))]));
}

async function runs() {
  const list = (await get(`/console/api/datasets/${enc(state.dataset)}/runs`)) || [];
  $('runs').replaceChildren(...(list.length ? list.slice().reverse().map((r) => el('div', { class: 'run', 'data-run': r.id },
    el('div', {}, el('strong', {}, short(r.id)), ` · ${time(r.finishedAt)} · ${r.engine}/${r.device} · ${r.mode}`),
    el('div', { class: 'muted' }, Object.entries(r.metrics || {}).filter(([k, v]) => typeof v === 'number' && k !== 'task').slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(' · ')),
    el('img', { src: `/console/api/runs/${r.id}/loss.svg`, alt: `loss curve of run ${r.id}`, loading: 'lazy' }))) : [el('p', { class: 'muted' }, 'no training run yet')]));
}

// Live numbers of the Predictor replicas: the Registry asks each replica every few seconds and streams what they said.
const num = (x, digits) => typeof x === 'number' ? x.toFixed(digits) : '—';
const pct = (x) => typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : '—';

function figure(label, value, id) {
  return el('span', { 'data-figure': id }, el('span', { class: 'label' }, label), el('span', { class: 'figure' }, value));
}

function showPredictors(p) {
  state.predictors = p;
  if (!p || p.dataset !== state.dataset) return;
  $('predictor-totals').replaceChildren(
    figure('requests/s', num(p.total.requestsPerSecond, 1), 'rps'),
    figure('p99 latency', typeof p.total.p99Ms === 'number' ? `${num(p.total.p99Ms, 2)} ms` : '—', 'p99'),
    figure('cache hit rate', pct(p.total.cacheHitRate), 'cache'),
    figure('replicas', String(p.replicas.filter((r) => r.stats).length) + (p.replicas.some((r) => !r.stats) ? ` of ${p.replicas.length}` : ''), 'replicas'));
  $('predictors').tBodies[0].replaceChildren(...(p.replicas.length ? p.replicas.map((r) => {
    const s = r.stats;
    const version = r.version ? `v${r.version}${r.canaryVersion ? ` (+ canary v${r.canaryVersion})` : ''}` : '—';
    if (!s) return el('tr', { 'data-replica': r.replica }, el('td', {}, r.replica), el('td', {}, version), el('td', { colSpan: 5, class: 'tainted unreached' }, r.unreached || 'no numbers'));
    return el('tr', { 'data-replica': r.replica },
      el('td', {}, r.replica), el('td', { class: 'version' }, version), el('td', { class: 'rps' }, num(s.requestsPerSecond, 1)),
      el('td', { class: 'p99' }, typeof s.p99Ms === 'number' ? `${num(s.p99Ms, 2)} ms` : '—'), el('td', { class: 'p50' }, typeof s.p50Ms === 'number' ? `${num(s.p50Ms, 2)} ms` : '—'),
      el('td', { class: 'cache', title: typeof s.cacheHits !== 'number' ? 'cache off' : `${s.cacheHits} hits, ${s.cacheMisses} misses since v${s.version} loaded` }, pct(s.cacheHitRate)),
      el('td', { class: 'requests' }, String(s.requestsTotal)));
  }) : [el('tr', {}, el('td', { colSpan: 7, class: 'muted' }, 'no Predictor replica serves this dataset'))]));
  $('predictor-problems').textContent = (p.problems || []).join('; ');
}

let predictorSource = null;
function listenPredictors() {
  if (predictorSource) predictorSource.close();
  if (!state.dataset) return;
  const source = new EventSource(`/console/api/datasets/${enc(state.dataset)}/predictors/events`);
  predictorSource = source;
  source.onopen = () => { $('predictors-live').className = 'live on'; $('predictors-live').textContent = 'live'; };
  source.onerror = () => { $('predictors-live').className = 'live off'; $('predictors-live').textContent = 'reconnecting'; };
  source.addEventListener('predictors', (e) => showPredictors(JSON.parse(e.data)));
}

// Per batch: its anomalies, and per feature its histogram beside its baseline's, drawn here from the Validator's numbers.
async function batches() {
  const list = ((await get(`/console/api/datasets/${enc(state.dataset)}/batches`)) || []).slice().reverse();
  if (!list.some((b) => b.batchId === state.batch)) state.batch = list.length ? list[0].batchId : null;
  $('batch').replaceChildren(...list.map((b) => el('option', { value: b.batchId, selected: b.batchId === state.batch },
    `${short(b.batchId)} · ${b.status} · ${b.rowCount} rows · ${time(b.decidedAt)}`)));
  await batchDetail();
}

async function showBatch(id) {
  state.batch = id;
  $('batch').value = id;
  await batchDetail();
  $('batches-panel').scrollIntoView({ behavior: 'smooth', block: 'start' });
}

async function batchDetail() {
  const id = state.batch;
  const h = id ? await get(`/console/api/batches/${id}/histograms`) : null;
  if (id !== state.batch) return; // another batch was chosen meanwhile
  if (!h) {
    $('batch-detail').replaceChildren(el('span', { class: 'muted' }, id ? 'no statistics for this batch' : 'no batch decided yet'));
    $('batch-anomalies').replaceChildren();
    $('histograms').replaceChildren();
    return;
  }
  $('batch-detail').replaceChildren(el('span', { 'data-batch': h.batchId }, `${h.batchId} · `, el('strong', { class: h.status === 'quarantined' ? 'tainted' : '' }, h.status),
    ` · ${h.rowCount} rows · schema ${h.schemaVersion ?? '?'} · ${time(h.decidedAt)} · baseline: ${h.baselineBatches ? `the ${h.baselineBatches} accepted batch(es) before it` : 'none (no accepted batch before it)'}`));
  const warns = (a) => String(a.severity).toLowerCase() === 'warn';
  $('batch-anomalies').replaceChildren(...(h.anomalies.length ? h.anomalies.map((a) => el('li', { class: warns(a) ? 'warn' : 'block', 'data-kind': a.kind },
    `${warns(a) ? 'warning' : 'blocks'} · ${a.kind}${a.feature ? ` (${a.feature})` : ''}: ${a.description}`)) : [el('li', { class: 'muted' }, 'no anomaly')]));
  $('histograms').replaceChildren(...h.features.map(featureCard));
}

function featureCard(f) {
  const drift = typeof f.distance === 'number' ? `${f.measure} ${f.distance.toFixed(3)}${typeof f.pValue === 'number' ? `, p ${f.pValue.toExponential(1)}` : ''}` : 'no baseline to compare';
  const means = typeof f.mean === 'number' ? ` · mean ${f.mean.toPrecision(4)}${typeof f.baselineMean === 'number' ? ` (baseline ${f.baselineMean.toPrecision(4)})` : ''}` : '';
  return el('div', { class: `hist${f.drifted || f.anomalous ? ' flagged' : ''}`, 'data-feature': f.feature },
    el('h3', {}, `${f.feature}${f.drifted ? ' — drifted' : f.anomalous ? ' — anomaly' : ''}`),
    el('div', { class: 'sub' }, `n ${f.count}${f.baselineCount !== null && f.baselineCount !== undefined ? ` vs ${f.baselineCount}` : ''}${f.missing ? ` · ${f.missing} missing` : ''}${means}`),
    el('div', { class: 'sub' }, drift),
    histogramSvg(f));
}

const SVG = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// Bars are shares (proportions), so a batch and a baseline of different sizes compare: baseline filled grey, this batch outlined.
function histogramSvg(f) {
  const W = 280, H = 118, top = 14, plot = 78, left = 4, right = 4;
  const bars = f.bars || [];
  const svg = svgEl('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `histogram of ${f.feature}` });
  svg.append(svgEl('line', { x1: left, y1: top + plot, x2: W - right, y2: top + plot, stroke: '#495057' }));
  if (!bars.length) { svg.append(svgEl('text', { x: left, y: top + plot / 2, 'font-size': 11 }, 'no values')); return svg; }
  // Nulls are left out of the Validator's JSON: a missing baseline share is undefined, not null.
  const max = Math.max(1e-12, ...bars.map((b) => Math.max(b.batch, b.baseline ?? 0)));
  const slot = (W - left - right) / bars.length;
  const numeric = f.kind === 'numeric';
  bars.forEach((b, j) => {
    const x = left + j * slot;
    const label = numeric ? `${b.low.toPrecision(4)} – ${b.high.toPrecision(4)}` : b.label;
    const tip = `${label}: this batch ${(b.batch * 100).toFixed(1)} %${typeof b.baseline !== 'number' ? '' : `, baseline ${(b.baseline * 100).toFixed(1)} %`}`;
    const g = svgEl('g', { class: 'bar', 'data-batch-share': b.batch, 'data-baseline-share': b.baseline ?? '' }, svgEl('title', {}, tip));
    const w = numeric ? slot : (slot - 4) / 2;
    if (typeof b.baseline === 'number') {
      const hb = b.baseline / max * plot;
      g.append(svgEl('rect', { class: 'baseline', x: (x + (numeric ? 0 : 1)).toFixed(1), y: (top + plot - hb).toFixed(1), width: w.toFixed(1), height: hb.toFixed(1), fill: '#b8c2cc' }));
    }
    const hc = b.batch / max * plot;
    g.append(svgEl('rect', { class: 'current', x: (x + (numeric ? 1 : 1 + w)).toFixed(1), y: (top + plot - hc).toFixed(1), width: Math.max(0, numeric ? slot - 2 : w).toFixed(1),
      height: hc.toFixed(1), fill: 'none', stroke: '#d9480f', 'stroke-width': 1.5 }));
    svg.append(g);
    if (!numeric) {
      const text = b.label.length > 8 ? `${b.label.slice(0, 7)}…` : b.label;
      svg.append(svgEl('text', { x: (x + slot / 2).toFixed(1), y: top + plot + 13, 'font-size': 10, 'text-anchor': 'middle' }, text));
    }
  });
  if (numeric) {
    svg.append(svgEl('text', { x: left, y: top + plot + 13, 'font-size': 10 }, bars[0].low.toPrecision(4)));
    svg.append(svgEl('text', { x: W - right, y: top + plot + 13, 'font-size': 10, 'text-anchor': 'end' }, bars[bars.length - 1].high.toPrecision(4)));
  }
  svg.append(svgEl('text', { x: W - right, y: 10, 'font-size': 10, 'text-anchor': 'end', fill: '#667085' }, `tallest bar ${(max * 100).toFixed(0)} %`));
  return svg;
}

function listen() {
  const source = new EventSource('/console/api/events');
  source.onopen = () => { $('live').className = 'live on'; $('live').textContent = 'live'; };
  source.onerror = () => { $('live').className = 'live off'; $('live').textContent = 'reconnecting'; };
  source.addEventListener('change', () => { refresh(); });
}

$('dataset').onchange = (e) => {
  state.dataset = e.target.value;
  state.version = null;
  history.replaceState(null, '', `?dataset=${enc(state.dataset)}`);
  refresh();
  listenPredictors();
};
$('batch').onchange = (e) => { state.batch = e.target.value; batchDetail().catch((x) => say(x.message)); };
$('version').onchange = (e) => { state.version = Number(e.target.value); lineage().catch((x) => say(x.message)); };

// A key is asked for once; the Registry exchanges it for an HttpOnly session cookie that fetch and EventSource both send.
function signIn() {
  return new Promise((resolve) => {
    const dialog = $('signin');
    $('signin-error').textContent = '';
    $('signin-form').onsubmit = async (e) => {
      e.preventDefault();
      const r = await fetch('/console/session', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key: $('signin-key').value.trim() }),
      });
      const p = await r.json().catch(() => ({}));
      if (!r.ok) { $('signin-error').textContent = p.detail || p.title || `failed: ${r.status}`; return; }
      $('signin-key').value = '';
      dialog.close();
      resolve(p);
    };
    dialog.showModal();
  });
}

async function start() {
  const r = await fetch('/console/session', { headers: { Accept: 'application/json' } });
  const current = r.ok ? await r.json() : { name: '' };
  state.user = current.name ? current : await signIn();
  $('who').textContent = `${state.user.name} (${state.user.roles.join(', ')})`;
  $('signout').hidden = false;
  $('signout').onclick = async () => { await fetch('/console/session', { method: 'DELETE' }); location.reload(); };
  await refresh();
  listen();
  listenPredictors();
}

start();
