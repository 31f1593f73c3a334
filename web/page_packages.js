// The packages the caller may read (or, for "my packages", those the caller sent), searchable by
// name, dataset, classification and date; downloads go straight to the API.
import { get, getJson, postJson, explain } from './api.js';
import { el, clear, size, time, levelBadge, number } from './format.js';
import { t } from './i18n.js';

const LEVELS = ['biasa', 'terbatas', 'rahasia', 'sangat-rahasia'];

// A package the caller's agreement covers but that waits for a custodian's release: ask for it.
function releaseCell(p) {
  const cell = el('div', { class: 'release' });
  if (p.request) {
    cell.append(el('span', { class: 'requested' }, t('packages.requested')));
    return cell;
  }
  const purpose = el('textarea', { rows: 2, cols: 30, maxlength: 500, class: 'request-purpose', placeholder: t('packages.purpose') });
  const ask = el('button', { type: 'button', class: 'secondary request-release' }, t('packages.request'));
  const status = el('div', { role: 'status' });
  ask.addEventListener('click', async () => {
    if (!purpose.value.trim()) { clear(status).append(el('p', { class: 'error' }, t('packages.purpose_needed'))); purpose.focus(); return; }
    ask.disabled = true;
    try {
      await postJson(`/v1/packages/${encodeURIComponent(p.package_id)}/requests`, { purpose: purpose.value.trim() });
      clear(cell).append(el('span', { class: 'requested' }, t('packages.requested')));
    } catch (error) {
      ask.disabled = false;
      clear(status).append(el('p', { class: 'error', role: 'alert' }, explain(error)));
    }
  });
  cell.append(el('p', {}, t('packages.awaiting')), purpose, ask, status);
  return cell;
}

const PAGE = 200;

export async function packagesPage(main, me, mine) {
  main.append(el('h1', {}, t(mine ? 'mine.title' : 'packages.title')));
  const datasets = await getJson('/v1/datasets');
  const search = el('input', { type: 'search', id: 'filter-name' });
  const dataset = el('select', { id: 'filter-dataset' }, el('option', { value: '' }, t('packages.all')),
    datasets.map((d) => el('option', { value: d.id }, d.id)));
  const level = el('select', { id: 'filter-level' }, el('option', { value: '' }, t('packages.all')),
    LEVELS.map((l) => el('option', { value: l }, t(`level.${l}`))));
  const from = el('input', { type: 'date', id: 'filter-from' });
  const until = el('input', { type: 'date', id: 'filter-until' });
  const count = el('p', { id: 'packages-count', role: 'status' });
  const body = el('tbody');
  const more = el('button', { type: 'button', class: 'secondary', id: 'packages-more' }, t('packages.more'));
  const table = el('table', { id: 'packages' }, el('thead', {}, el('tr', {},
    el('th', {}, t('packages.file')), el('th', {}, t('packages.dataset')), el('th', {}, t('packages.level')),
    el('th', {}, t('packages.size')), el('th', {}, t('packages.time')), el('th', {}, t('packages.producer')), el('th'))), body);

  // The gateway filters and pages: on a weak link one small answer beats the whole list.
  let shown = 0, total = 0, generation = 0;
  const query = (offset) => {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (mine) q.set('producer', me.id);
    if (search.value.trim()) q.set('name', search.value.trim());
    if (dataset.value) q.set('dataset', dataset.value);
    if (level.value) q.set('classification', level.value);
    if (from.value) q.set('since', from.value);
    if (until.value) q.set('until', until.value);
    return `/v1/packages?${q}`;
  };
  const load = async (append) => {
    const mine_ = ++generation;
    const response = await get(query(append ? shown : 0));
    const page = await response.json();
    if (mine_ !== generation) return;  // a newer search has started
    total = Number(response.headers.get('Serambi-Total')) || page.length;
    if (!append) { clear(body); shown = 0; }
    for (const p of page) {
      const encrypted = p.delivery === 'age';
      const action = p.access === 'request' ? releaseCell(p)
        : el('a', { href: `/v1/packages/${encodeURIComponent(p.package_id)}`, download: '', class: 'download' }, t('packages.download'));
      body.append(el('tr', { 'data-package': p.package_id },
        el('td', { class: 'filename' }, p.filename, encrypted ? el('div', { class: 'notice' }, t('packages.age_note')) : null),
        el('td', {}, p.dataset), el('td', {}, levelBadge(p.classification, t)),
        el('td', { class: 'num' }, size(p.size)), el('td', {}, time(p.created_at)), el('td', {}, p.producer),
        el('td', {}, action)));
    }
    shown += page.length;
    clear(count).append(total === 0 ? t('packages.none') : t('packages.count', { shown: number(shown), total: number(total) }));
    more.hidden = shown >= total;
  };
  const failed = (error) => clear(count).append(el('span', { class: 'error', role: 'alert' }, explain(error)));
  let timer = null;
  for (const input of [search, dataset, level, from, until]) {
    input.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => load(false).catch(failed), 300);
    });
  }
  more.addEventListener('click', () => load(true).catch(failed));
  main.append(el('form', { class: 'filters', on: { submit: (e) => e.preventDefault() } },
    el('label', {}, t('packages.search'), search), el('label', {}, t('packages.dataset'), dataset),
    el('label', {}, t('packages.level'), level), el('label', {}, t('packages.from'), from),
    el('label', {}, t('packages.until'), until)), count, table, el('p', {}, more));
  await load(false);
}
