// The custodian's MOU agreements: list, add (with the signed MOU's SHA-256, computed here in the
// browser so that the PDF itself never leaves the office PC), revoke with a reason.
import { getJson, postJson, explain } from './api.js';
import { el, clear, time, levelBadge } from './format.js';
import { t } from './i18n.js';

const LEVELS = ['biasa', 'terbatas', 'rahasia', 'sangat-rahasia'];

async function sha256Hex(file) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function agreementsPage(main) {
  main.append(el('h1', {}, t('agreements.title')));
  const status = el('div', { role: 'status', id: 'agreements-status' });
  const body = el('tbody');
  const table = el('table', { id: 'agreements' }, el('thead', {}, el('tr', {},
    ['id', 'partner', 'datasets', 'max', 'valid', 'state', 'document'].map((c) => el('th', {}, t(`agreements.${c}`))), el('th'))), body);

  const reload = async () => {
    const all = await getJson('/v1/agreements');
    clear(body);
    for (const a of all) {
      const reason = el('input', { type: 'text', class: 'revoke-reason', maxlength: 500, placeholder: t('agreements.reason') });
      const revoke = el('button', { type: 'button', class: 'secondary revoke' }, t('agreements.revoke'));
      revoke.addEventListener('click', async () => {
        if (!reason.value.trim()) { reason.focus(); return; }
        try {
          await postJson(`/v1/agreements/${encodeURIComponent(a.id)}/revoke`, { reason: reason.value.trim() });
          await reload();
        } catch (error) {
          clear(status).append(el('p', { class: 'error', role: 'alert' }, explain(error)));
        }
      });
      body.append(el('tr', { 'data-agreement': a.id },
        el('td', { class: 'mono' }, a.id), el('td', {}, a.partner), el('td', { class: 'mono' }, a.datasets.join(', ')),
        el('td', {}, levelBadge(a.max_classification, t)),
        el('td', {}, time(a.valid_from), ' – ', time(a.valid_until)),
        el('td', { class: 'agreement-state' }, t(`agreement_state.${a.state}`), a.revoke_reason ? ` (${a.revoke_reason})` : ''),
        el('td', { class: 'mono' }, a.document_name ? `${a.document_name}: ${a.document_sha256}` : '—'),
        el('td', {}, a.state === 'revoked' ? null : [reason, ' ', revoke])));
    }
  };

  const partner = el('input', { type: 'text', id: 'agreement-partner', required: true });
  const datasets = el('input', { type: 'text', id: 'agreement-datasets', required: true, placeholder: 'dinkes-malut/*' });
  const max = el('select', { id: 'agreement-max' }, LEVELS.map((l) => el('option', { value: l }, t(`level.${l}`))));
  const purpose = el('input', { type: 'text', id: 'agreement-purpose', required: true, maxlength: 500 });
  const from = el('input', { type: 'date', id: 'agreement-from', required: true });
  const until = el('input', { type: 'date', id: 'agreement-until', required: true });
  const mou = el('input', { type: 'file', id: 'agreement-document', accept: 'application/pdf' });
  const form = el('form', { class: 'filters card', id: 'agreement-form' },
    el('label', {}, t('agreements.partner'), partner), el('label', {}, t('agreements.datasets'), datasets),
    el('label', {}, t('agreements.max'), max), el('label', {}, t('agreements.purpose'), purpose),
    el('label', {}, t('agreements.from'), from), el('label', {}, t('agreements.until'), until),
    el('label', {}, t('agreements.document'), mou),
    el('button', { type: 'submit', class: 'primary', id: 'agreement-add' }, t('agreements.add')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clear(status);
    const agreement = {
      partner: partner.value.trim(),
      datasets: datasets.value.split(',').map((s) => s.trim()).filter((s) => s),
      max_classification: max.value, purpose: purpose.value.trim(),
      valid_from: from.value, valid_until: until.value,
    };
    try {
      if (mou.files.length === 1) {
        agreement.document_name = mou.files[0].name;
        agreement.document_sha256 = await sha256Hex(mou.files[0]);
      }
      const added = await postJson('/v1/agreements', agreement);
      status.append(el('p', { class: 'ok', id: 'agreement-added' }, t('agreements.added', { id: added.id })));
      form.reset();
      await reload();
    } catch (error) {
      status.append(el('p', { class: 'error', role: 'alert' }, explain(error)));
    }
  });
  main.append(form, status, table);
  await reload();
}
