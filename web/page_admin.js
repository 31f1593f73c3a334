// The admin's page: principals (add from a unit's certificate request, revoke, remove), the
// certificates that end within 30 days, datasets, and the gateway's own counters.
import { getJson, getText, postJson, explain } from './api.js';
import { el, clear, time, levelBadge, number } from './format.js';
import { t } from './i18n.js';

const ROLES = ['producer', 'partner', 'custodian', 'auditor', 'admin'];
const LEVELS = ['biasa', 'terbatas', 'rahasia', 'sangat-rahasia'];
const DAY = 86400000;

function metric(text, name) {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) total += Number(line.split(' ').pop()) || 0;
  }
  return total;
}

export async function adminPage(main, me) {
  main.append(el('h1', {}, t('admin.title')));
  const status = el('div', { role: 'status', id: 'admin-status' });
  const say = (node) => clear(status).append(node);

  // ---- The gateway's counters (from /metrics, which admins may read)
  const counters = el('dl', { class: 'facts card', id: 'admin-counters' });
  try {
    const m = await getText('/metrics');
    const started = metric(m, 'serambi_start_time_seconds');
    counters.append(
      el('dt', {}, t('admin.log_entries')), el('dd', {}, number(metric(m, 'serambi_access_log_entries'))),
      el('dt', {}, t('admin.connections')), el('dd', {}, number(metric(m, 'serambi_connections_open'))),
      el('dt', {}, t('admin.refused')), el('dd', {}, number(metric(m, 'serambi_handshakes_refused_total'))),
      el('dt', {}, t('admin.started')), el('dd', {}, started ? time(new Date(started * 1000).toISOString()) : '—'));
  } catch (error) {
    counters.append(el('dd', {}, explain(error)));
  }

  // ---- Principals
  const body = el('tbody');
  const ending = el('ul', { id: 'admin-ending' });
  const reload = async () => {
    const principals = await getJson('/v1/principals');
    clear(body);
    clear(ending);
    for (const p of principals) {
      const ends = p.certificate_not_after ? new Date(p.certificate_not_after) : null;
      const soon = ends && !p.removed_at && ends.getTime() - Date.now() < 30 * DAY;
      if (soon) ending.append(el('li', {}, `${p.id}: `, time(p.certificate_not_after)));
      const actions = [];
      // Never offered on one's own row: the gateway refuses it, and a slip would lock the admin out.
      if (!p.removed_at && p.id !== me.id) {
        const revoke = el('button', { type: 'button', class: 'secondary revoke' }, t('admin.revoke'));
        revoke.addEventListener('click', async () => {
          if (!window.confirm(t('admin.revoke_confirm', { id: p.id }))) return;
          try { await postJson(`/v1/principals/${encodeURIComponent(p.id)}/revoke`, { reason: 'keyCompromise' }); await reload(); } catch (error) { say(el('p', { class: 'error', role: 'alert' }, explain(error))); }
        });
        const remove = el('button', { type: 'button', class: 'secondary remove' }, t('admin.remove'));
        remove.addEventListener('click', async () => {
          if (!window.confirm(t('admin.remove_confirm', { id: p.id }))) return;
          try { await postJson(`/v1/principals/${encodeURIComponent(p.id)}/remove`, {}); await reload(); } catch (error) { say(el('p', { class: 'error', role: 'alert' }, explain(error))); }
        });
        actions.push(revoke, ' ', remove);
      }
      body.append(el('tr', { 'data-principal': p.id },
        el('td', { class: 'mono' }, p.id), el('td', {}, p.name), el('td', {}, p.roles.map((r) => t(`role.${r}`)).join(', ')),
        el('td', { class: soon ? 'warn' : '' }, p.certificate_not_after ? time(p.certificate_not_after) : '—'),
        el('td', {}, p.removed_at ? t('admin.removed') : ''), el('td', {}, actions)));
    }
    if (!ending.firstChild) ending.append(el('li', {}, t('admin.none_ending')));
  };

  // ---- Adding a unit from its certificate request (serambi enroll on the unit's machine)
  const id = el('input', { type: 'text', id: 'principal-id', required: true, pattern: '[a-z0-9-]{1,63}' });
  const name = el('input', { type: 'text', id: 'principal-name', required: true, maxlength: 200 });
  const roles = el('select', { id: 'principal-role' }, ROLES.map((r) => el('option', { value: r }, t(`role.${r}`))));
  const csr = el('input', { type: 'file', id: 'principal-csr', accept: '.csr,.pem', required: true });
  const issued = el('div', { id: 'principal-issued' });
  const add = el('form', { class: 'filters card', id: 'principal-form' },
    el('label', {}, t('admin.id'), id), el('label', {}, t('admin.name'), name), el('label', {}, t('admin.role'), roles),
    el('label', {}, t('admin.csr'), csr), el('button', { type: 'submit', class: 'primary' }, t('admin.add')));
  add.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(issued);
    try {
      const request = await csr.files[0].text();
      const made = await postJson('/v1/principals', { id: id.value.trim(), name: name.value.trim(), roles: [roles.value], csr: request });
      const blob = new Blob([made.certificate], { type: 'application/x-pem-file' });
      issued.append(el('p', { class: 'ok' }, t('admin.added', { id: made.principal.id }), ' ',
        el('a', { href: URL.createObjectURL(blob), download: `${made.principal.id}.crt` }, t('admin.download_cert'))));
      add.reset();
      await reload();
    } catch (error) {
      issued.append(el('p', { class: 'error', role: 'alert' }, explain(error)));
    }
  });

  // ---- Datasets
  const datasets = el('tbody');
  const reloadDatasets = async () => {
    clear(datasets);
    for (const d of await getJson('/v1/datasets'))
      datasets.append(el('tr', {}, el('td', { class: 'mono' }, d.id), el('td', {}, d.title), el('td', {}, levelBadge(d.classification, t)), el('td', {}, time(d.created_at))));
  };
  const dsId = el('input', { type: 'text', id: 'dataset-id', required: true, placeholder: 'dinkes-malut/imunisasi' });
  const dsTitle = el('input', { type: 'text', id: 'dataset-title', required: true, maxlength: 300 });
  const dsLevel = el('select', { id: 'dataset-level' }, LEVELS.map((l) => el('option', { value: l }, t(`level.${l}`))));
  const dsForm = el('form', { class: 'filters card', id: 'dataset-form' },
    el('label', {}, t('admin.dataset_id'), dsId), el('label', {}, t('admin.dataset_title'), dsTitle),
    el('label', {}, t('packages.level'), dsLevel), el('button', { type: 'submit', class: 'primary' }, t('admin.dataset_add')));
  dsForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await postJson('/v1/datasets', { id: dsId.value.trim(), title: dsTitle.value.trim(), classification: dsLevel.value });
      dsForm.reset();
      say(el('p', { class: 'ok' }, t('admin.dataset_added')));
      await reloadDatasets();
    } catch (error) {
      say(el('p', { class: 'error', role: 'alert' }, explain(error)));
    }
  });

  main.append(counters, status,
    el('h2', {}, t('admin.ending')), ending,
    el('h2', {}, t('admin.principals')), add, issued,
    el('table', { id: 'principals' }, el('thead', {}, el('tr', {},
      ['id', 'name', 'role', 'cert', 'state'].map((c) => el('th', {}, t(`admin.col_${c}`))), el('th'))), body),
    el('h2', {}, t('admin.datasets')), dsForm,
    el('table', { id: 'datasets' }, el('thead', {}, el('tr', {},
      ['dataset_id', 'dataset_title', 'level', 'created'].map((c) => el('th', {}, t(`admin.col_${c}`))))), datasets));
  await reload();
  await reloadDatasets();
}
