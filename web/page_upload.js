// A producer's upload: pick one of the unit's datasets, drop files, watch each one go, and keep
// the receipt of each.
import { getJson, upload, explain } from './api.js';
import { el, clear, size, time, levelBadge } from './format.js';
import { t } from './i18n.js';

function link(href, text) { return el('a', { href, download: '' }, text); }

export function receipt(r) {
  const id = encodeURIComponent(r.package_id);
  return el('div', { class: 'card receipt', 'data-package': r.package_id },
    el('h2', {}, `${t('upload.receipt')}: `, r.filename),
    el('dl', { class: 'facts' },
      el('dt', {}, t('receipt.package')), el('dd', { class: 'mono receipt-id' }, r.package_id),
      el('dt', {}, t('receipt.file')), el('dd', {}, r.filename),
      el('dt', {}, t('receipt.size')), el('dd', {}, size(r.size)),
      el('dt', {}, t('receipt.sha256')), el('dd', { class: 'mono receipt-sha256' }, r.sha256),
      el('dt', {}, t('receipt.level')), el('dd', {}, levelBadge(r.classification, t)),
      el('dt', {}, t('receipt.audit_index')), el('dd', { class: 'mono' }, r.audit_index),
      el('dt', {}, t('receipt.time')), el('dd', {}, time(r.created_at)),
      el('dt', {}, t('receipt.manifest')), el('dd', {}, link(`/v1/packages/${id}/manifest`, 'manifest.json')),
      el('dt', {}, t('receipt.signature')), el('dd', {}, link(`/v1/packages/${id}/manifest.p7s`, 'manifest.p7s'))),
    el('p', { class: 'notice' }, t('receipt.verify_help')));
}

export async function uploadPage(main, me) {
  main.append(el('h1', {}, t('upload.title')));
  const datasets = (await getJson('/v1/datasets')).filter((d) => d.owner === me.id);
  if (datasets.length === 0) {
    main.append(el('p', { class: 'notice' }, t('upload.no_datasets')));
    return;
  }
  const select = el('select', { id: 'upload-dataset' },
    datasets.map((d) => el('option', { value: d.id }, `${d.id} — ${d.title} (${t(`level.${d.classification}`)})`)));
  const warning = el('div');
  const rows = el('div', { id: 'upload-files' });
  const receipts = el('div', { id: 'receipts' });
  const input = el('input', { type: 'file', multiple: true, id: 'upload-input' });
  const send = el('button', { type: 'button', class: 'primary', id: 'upload-send', disabled: true }, t('upload.send'));
  const queue = [];

  const level = () => datasets.find((d) => d.id === select.value).classification;
  const refresh = () => {
    clear(warning);
    const blocked = level() === 'sangat-rahasia';
    if (blocked) warning.append(el('p', { class: 'notice', id: 'sangat-rahasia-note' }, t('upload.sangat_rahasia')));
    send.disabled = blocked || !queue.some((q) => q.state === 'waiting');
  };
  const add = (files) => {
    for (const file of files) {
      const bar = el('progress', { max: file.size || 1, value: 0 });
      const state = el('span', { class: 'state' }, t('upload.waiting'));
      const row = el('div', { class: 'file-row' }, el('span', { class: 'name' }, file.name, ' (', size(file.size), ')'), bar, state);
      rows.append(row);
      queue.push({ file, bar, row, stateNode: state, state: 'waiting' });
    }
    refresh();
  };
  input.addEventListener('change', () => { add(input.files); input.value = ''; });
  const drop = el('div', { class: 'drop', id: 'upload-drop' }, t('upload.drop'), ' ',
    el('label', { class: 'inline' }, input, el('span', {}, t('upload.choose'))));
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); add(e.dataTransfer.files); });
  select.addEventListener('change', refresh);

  // One file at a time: on a weak link, parallel uploads only slow each other down.
  send.addEventListener('click', async () => {
    send.disabled = true;
    select.disabled = true;
    for (const item of queue.filter((q) => q.state === 'waiting')) {
      item.state = 'sending';
      clear(item.stateNode).append(t('upload.sending'));
      try {
        // eslint-disable-next-line no-await-in-loop
        const r = await upload(select.value, item.file, (loaded) => {
          item.bar.value = loaded;
          clear(item.stateNode).append(t('upload.sending'));
        }, (seconds) => { clear(item.stateNode).append(t('upload.retrying', { seconds })); });
        item.state = 'done';
        item.bar.value = item.bar.max;
        clear(item.stateNode).append(t('upload.done'));
        receipts.prepend(receipt(r));
      } catch (error) {
        item.state = 'failed';
        clear(item.stateNode).append(t('upload.failed'));
        item.row.append(el('p', { class: 'error', role: 'alert' }, explain(error)));
      }
    }
    select.disabled = false;
    refresh();
  });

  main.append(el('label', {}, t('upload.dataset'), select), warning, drop,
    el('p', { class: 'hint', id: 'upload-resume-note' }, t('upload.resume_note')), rows, el('p', {}, send), receipts);
  refresh();
}
