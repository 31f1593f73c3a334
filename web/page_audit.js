// The auditor's view of the access log: search, each entry with its index, CSV export, a chart of
// pulls and denials per day, and verification in this browser against a key pasted once.
import { getJson, getText, explain } from './api.js';
import { el, clear, time, number } from './format.js';
import { t } from './i18n.js';
import {
  parseVerifierKey, verifyCheckpoint, leafHash, verifyInclusion, verifyConsistency, decodeHashes, toBase64, fromBase64,
  VerifyError, cosignersOf,
} from './tlog.js';

const WINDOW = 10000;
const KEY_ITEM = 'serambi.log_key';
const WITNESS_ITEM = 'serambi.witness_keys';

async function witnessKeys() {
  const text = stored(WITNESS_ITEM) || '';
  const keys = [];
  for (const line of text.split('\n')) if (line.trim()) keys.push(await parseVerifierKey(line, 4)); // eslint-disable-line no-await-in-loop
  return keys;
}

// What the witnesses said of the checkpoint just checked, for the auditor to read.
function witnessLine(cosigners, keys) {
  const parts = [];
  if (cosigners.verified.length) {
    parts.push(t('audit.witnessed', {
      names: cosigners.verified.map((w) => `${w.name} (${time(new Date(w.time * 1000).toISOString()).textContent})`).join(', '),
      count: cosigners.verified.length, of: keys.length,
    }));
  } else {
    parts.push(t(keys.length ? 'audit.not_witnessed' : 'audit.no_witness_keys'));
  }
  if (cosigners.unchecked.length) parts.push(t('audit.witness_unchecked', { names: cosigners.unchecked.join(', ') }));
  return parts.join(' ');
}

function stored(name) { try { return localStorage.getItem(name); } catch { return null; } }
function store(name, value) { try { localStorage.setItem(name, value); } catch { /* this page only */ } }

function why(error) { return error instanceof VerifyError ? t(error.key, error.params) : explain(error); }

// Checks entry `index` (its exact text `entry`) against a fresh checkpoint, and that the log
// extends the last checkpoint this browser saw. Returns the message to show.
export async function verifyEntry(index, entry) {
  const keyText = stored(KEY_ITEM);
  if (!keyText) throw new VerifyError('audit.key_missing');
  const key = await parseVerifierKey(keyText);
  const keys = await witnessKeys();
  // With witnesses' keys: the newest checkpoint a witness cosigned, if it covers the entry (the
  // newest of all may not be cosigned yet); otherwise the newest.
  let note = null;
  if (keys.length) {
    try {
      const witnessed = await getText('/v1/audit/checkpoint?witnessed=1');
      if (Number(witnessed.split('\n')[1]) > index) note = witnessed;
    } catch { /* none cosigned yet: the newest, said to be unwitnessed below */ }
  }
  if (note === null) note = await getText('/v1/audit/checkpoint');
  const checkpoint = await verifyCheckpoint(note, key);
  const cosigners = await cosignersOf(note, keys, key.name);
  // Kept per key (its name and hash), so that nothing the gateway says chooses which record is compared.
  const seenItem = `serambi.seen:${keyText.trim().split('+').slice(0, 2).join('+')}`;
  const seen = stored(seenItem) ? JSON.parse(stored(seenItem)) : null;
  const proof = await getJson(`/v1/audit/proof/inclusion?index=${index}&size=${checkpoint.size}`);
  if (!await verifyInclusion(index, checkpoint.size, await leafHash(entry), decodeHashes(proof.hashes), checkpoint.root))
    throw new VerifyError('verify.bad_inclusion');
  if (seen) {
    if (seen.size > checkpoint.size) throw new VerifyError('verify.shrunk', { size: checkpoint.size, seen: seen.size });
    const consistency = seen.size === checkpoint.size ? { hashes: [] }
      : await getJson(`/v1/audit/proof/consistency?old=${seen.size}&new=${checkpoint.size}`);
    if (!await verifyConsistency(seen.size, checkpoint.size, fromBase64(seen.root), checkpoint.root, decodeHashes(consistency.hashes)))
      throw new VerifyError('verify.bad_consistency', { seen: seen.size });
  }
  store(seenItem, JSON.stringify({ size: checkpoint.size, root: toBase64(checkpoint.root) }));
  return `${seen ? t('audit.verify_ok', { size: checkpoint.size, index, seen: seen.size })
    : t('audit.verify_first', { size: checkpoint.size, index })} ${witnessLine(cosigners, keys)}`;
}

// A spreadsheet must not run a cell as a formula: text that starts like one is quoted.
function csvCell(value) {
  let text = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  // Quoted when it holds a separator: a comma, or the semicolon that Excel uses in Indonesian settings.
  return /[",;\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const COLUMNS = ['time', 'principal', 'action', 'resource', 'classification', 'decision', 'status', 'reason', 'remote', 'request_id', 'sha256'];

function chart(rows) {
  const days = new Map();
  for (const { entry } of rows) {
    const day = String(entry.time || '').slice(0, 10);
    if (!day) continue;
    const d = days.get(day) || { pulls: 0, denials: 0 };
    if (entry.action === 'package.pull' && entry.decision === 'allow') d.pulls += 1;
    if (entry.decision === 'deny') d.denials += 1;
    days.set(day, d);
  }
  const list = [...days.entries()].sort().slice(-31);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('viewBox', '0 0 640 180');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('audit.chart'));
  const max = Math.max(1, ...list.map(([, d]) => Math.max(d.pulls, d.denials)));
  const width = Math.min(48, 600 / Math.max(1, list.length));
  list.forEach(([day, d], i) => {
    for (const [k, value, colour, offset] of [['pulls', d.pulls, '#1d6b2f', 0], ['denials', d.denials, '#a01414', 0.5]]) {
      const bar = document.createElementNS(ns, 'rect');
      const h = (value / max) * 140;
      bar.setAttribute('x', String(30 + i * width + offset * width * 0.8));
      bar.setAttribute('y', String(150 - h));
      bar.setAttribute('width', String(Math.max(1, width * 0.4)));
      bar.setAttribute('height', String(h));
      bar.setAttribute('fill', colour);
      const title = document.createElementNS(ns, 'title');
      title.textContent = `${day}: ${value} ${t(`audit.${k}`)}`;
      bar.appendChild(title);
      svg.appendChild(bar);
    }
    const label = document.createElementNS(ns, 'text');
    label.setAttribute('x', String(30 + i * width));
    label.setAttribute('y', '170');
    label.setAttribute('font-size', '10');
    label.textContent = day.slice(5);
    svg.appendChild(label);
  });
  return el('figure', {}, svg, el('figcaption', {}, `${t('audit.chart')}: `,
    el('span', { class: 'legend-pulls' }, `■ ${t('audit.pulls')}`), ' ', el('span', { class: 'legend-denials' }, `■ ${t('audit.denials')}`)));
}

export async function auditPage(main) {
  main.append(el('h1', {}, t('audit.title')));
  const result = el('div', { id: 'audit-verify-result', role: 'status' });

  const keyInput = el('textarea', { id: 'audit-key', rows: 2, cols: 60, spellcheck: 'false' });
  keyInput.value = stored(KEY_ITEM) || '';
  const keyState = el('span', { id: 'audit-key-state' });
  const saveKey = el('button', { type: 'button', class: 'secondary', id: 'audit-key-save' }, t('audit.key_save'));
  saveKey.addEventListener('click', async () => {
    clear(keyState);
    try {
      await parseVerifierKey(keyInput.value);
      store(KEY_ITEM, keyInput.value.trim());
      keyState.append(el('span', { class: 'ok' }, t('audit.key_saved')));
    } catch (error) {
      keyState.append(el('span', { class: 'error' }, t('audit.key_bad', { why: why(error) })));
    }
  });

  const witnessInput = el('textarea', { id: 'audit-witness-keys', rows: 2, cols: 60, spellcheck: 'false' });
  witnessInput.value = stored(WITNESS_ITEM) || '';
  const witnessState = el('span', { id: 'audit-witness-state' });
  const saveWitnesses = el('button', { type: 'button', class: 'secondary', id: 'audit-witness-save' }, t('audit.witness_save'));
  saveWitnesses.addEventListener('click', async () => {
    clear(witnessState);
    try {
      for (const line of witnessInput.value.split('\n')) if (line.trim()) await parseVerifierKey(line, 4); // eslint-disable-line no-await-in-loop
      store(WITNESS_ITEM, witnessInput.value.trim());
      witnessState.append(el('span', { class: 'ok' }, t('audit.witness_saved')));
    } catch (error) {
      witnessState.append(el('span', { class: 'error' }, t('audit.key_bad', { why: why(error) })));
    }
  });

  const fields = {};
  const field = (name, type = 'text') => { fields[name] = el('input', { type, id: `audit-${name}`, name }); return el('label', {}, t(`audit.${name}`), fields[name]); };
  const decision = el('select', { id: 'audit-decision' }, el('option', { value: '' }, '—'),
    ['allow', 'deny', 'error'].map((d) => el('option', { value: d }, t(`decision.${d}`))));
  const summary = el('p', { id: 'audit-summary' });
  const body = el('tbody');
  const table = el('table', { id: 'audit-entries' }, el('thead', {}, el('tr', {},
    ['index', 'time', 'principal', 'action', 'resource', 'decision', 'reason'].map((c) => el('th', {}, t(`audit.${c === 'resource' ? 'resource' : c}`))), el('th'))), body);
  const chartBox = el('div', { id: 'audit-chart' });
  let rows = [];
  let end = null;

  const query = (start, stop) => {
    const q = new URLSearchParams({ start: String(start), end: String(stop), indexed: 'true' });
    for (const name of ['principal', 'dataset', 'package', 'action']) if (fields[name].value.trim()) q.set(name, fields[name].value.trim());
    if (decision.value) q.set('decision', decision.value);
    if (fields.since.value) q.set('since', fields.since.value);
    if (fields.until.value) {
      const next = new Date(`${fields.until.value}T00:00:00Z`);
      next.setUTCDate(next.getUTCDate() + 1);
      q.set('until', next.toISOString().slice(0, 10));
    }
    return q;
  };

  let generation = 0;
  const search = async (older) => {
    // A search started later wins: an earlier answer arriving after it is dropped.
    const mine = ++generation;
    let stop = end;
    if (!older) {
      const note = await getText('/v1/audit/checkpoint');
      stop = Number(note.split('\n')[1]) || 0;
    }
    const start = Math.max(0, stop - WINDOW);
    const text = await getText(`/v1/audit/entries?${query(start, stop)}`);
    if (mine !== generation) return;
    end = stop;
    const page = text.split('\n').filter((l) => l).map((l) => { const o = JSON.parse(l); return { index: o.index, raw: o.entry, entry: JSON.parse(o.entry) }; });
    page.reverse();
    rows = older ? rows.concat(page) : page;
    clear(summary).append(t('audit.range', { from: number(start), to: number(Math.max(start, end - 1)), size: number(end), count: number(rows.length) }));
    if (rows.length === 0) summary.append(' ', t('audit.none'));
    clear(body);
    for (const row of rows) {
      const e = row.entry;
      const verify = el('button', { type: 'button', class: 'secondary verify', 'data-index': row.index }, t('audit.verify'));
      verify.addEventListener('click', async () => {
        clear(result);
        try {
          result.append(el('div', { class: 'ok', id: 'verify-ok' }, await verifyEntry(row.index, row.raw)));
        } catch (error) {
          result.append(el('div', { class: 'error', id: 'verify-failed', role: 'alert' }, t('audit.verify_fail', { why: why(error) })));
        }
      });
      // The entry exactly as logged, under its index: what an inclusion proof is about.
      const detail = el('tr', { class: 'entry-detail', hidden: true },
        el('td', { colspan: 8 }, el('pre', { class: 'mono' }, row.raw)));
      const open = el('button', { type: 'button', class: 'link', 'aria-expanded': 'false', title: t('audit.entry', { index: row.index }) }, String(row.index));
      open.addEventListener('click', () => {
        detail.hidden = !detail.hidden;
        open.setAttribute('aria-expanded', String(!detail.hidden));
      });
      body.append(el('tr', { 'data-index': row.index },
        el('td', { class: 'num mono' }, open), el('td', {}, e.time ? time(e.time) : ''), el('td', {}, e.principal || ''),
        el('td', {}, e.action || ''), el('td', { class: 'mono' }, e.resource || ''),
        el('td', {}, e.decision ? t(`decision.${e.decision}`) : ''), el('td', {}, e.reason || ''), el('td', {}, verify)), detail);
    }
    clear(chartBox).append(chart(rows));
    older_.disabled = start === 0;
    end = start;
  };

  const csv = el('button', { type: 'button', class: 'secondary', id: 'audit-csv' }, t('audit.csv'));
  csv.addEventListener('click', () => {
    const lines = [['index', ...COLUMNS].join(',')];
    for (const row of rows) lines.push([row.index, ...COLUMNS.map((c) => row.entry[c])].map(csvCell).join(','));
    const blob = new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv;charset=utf-8' });
    const a = el('a', { href: URL.createObjectURL(blob), download: 'serambi-audit.csv' });
    document.body.append(a);
    a.click();
    a.remove();
  });
  const older_ = el('button', { type: 'button', class: 'secondary', id: 'audit-older' }, t('audit.older'));
  older_.addEventListener('click', () => search(true).catch(showError));
  const showError = (error) => { clear(result).append(el('div', { class: 'error', role: 'alert' }, explain(error))); };

  const form = el('form', { class: 'filters', id: 'audit-form' },
    field('principal'), field('dataset'), field('package'), field('action'), el('label', {}, t('audit.decision'), decision),
    field('since', 'date'), field('until', 'date'),
    el('button', { type: 'submit', class: 'primary', id: 'audit-search' }, t('audit.search')), csv);
  form.addEventListener('submit', (e) => { e.preventDefault(); search(false).catch(showError); });

  main.append(el('div', { class: 'card' }, el('label', {}, t('audit.key_label'), keyInput), ' ', saveKey, ' ', keyState),
    el('div', { class: 'card' }, el('label', {}, t('audit.witness_label'), witnessInput), ' ', saveWitnesses, ' ', witnessState),
    form, result, summary, chartBox, table, el('p', {}, older_));
  await search(false);
}
