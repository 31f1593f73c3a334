// The custodian's inbox: partners' release requests with the package, the agreement and the
// purpose; approve (expiry, download cap) or refuse with a reason. The second approval of a
// two-person release shows who gave the first.
import { getJson, postJson, explain } from './api.js';
import { el, clear, size, time, levelBadge } from './format.js';
import { t } from './i18n.js';

function requestCard(r, reload) {
  const p = r.package || {};
  const status = el('div', { role: 'status' });
  const days = el('input', { type: 'number', min: 1, max: 366, class: 'approve-days', placeholder: t('requests.days_default') });
  const cap = el('input', { type: 'number', min: 1, max: 1000000, class: 'approve-cap', placeholder: t('requests.cap_default') });
  const reason = el('textarea', { rows: 2, cols: 50, class: 'refuse-reason', maxlength: 500 });
  const approve = el('button', { type: 'button', class: 'primary approve' }, t('requests.approve'));
  const refuse = el('button', { type: 'button', class: 'secondary refuse' }, t('requests.refuse'));
  approve.addEventListener('click', async () => {
    const body = { partner: r.partner };
    if (days.value) {
      const until = new Date(Date.now() + Number(days.value) * 86400000);
      body.expires_at = `${until.toISOString().slice(0, 19)}Z`;
    }
    if (cap.value) body.max_downloads = Number(cap.value);
    approve.disabled = true;
    try {
      await postJson(`/v1/packages/${encodeURIComponent(r.package_id)}/approvals`, body);
      await reload();
    } catch (error) {
      approve.disabled = false;
      clear(status).append(el('p', { class: 'error', role: 'alert' }, explain(error)));
    }
  });
  refuse.addEventListener('click', async () => {
    if (!reason.value.trim()) {
      clear(status).append(el('p', { class: 'error', role: 'alert' }, t('requests.reason_needed')));
      reason.focus();
      return;
    }
    refuse.disabled = true;
    try {
      await postJson(`/v1/requests/${encodeURIComponent(r.id)}/refuse`, { reason: reason.value.trim() });
      await reload();
    } catch (error) {
      refuse.disabled = false;
      clear(status).append(el('p', { class: 'error', role: 'alert' }, explain(error)));
    }
  });
  const given = (r.approvals || []).filter((a) => a.state === 'standing');
  return el('div', { class: 'card request', 'data-request': r.id },
    el('h2', {}, p.filename || r.package_id),
    el('dl', { class: 'facts' },
      el('dt', {}, t('requests.partner')), el('dd', { class: 'request-partner' }, r.partner),
      el('dt', {}, t('requests.purpose')), el('dd', { class: 'request-purpose' }, r.purpose),
      el('dt', {}, t('requests.asked')), el('dd', {}, time(r.created_at)),
      el('dt', {}, t('packages.dataset')), el('dd', {}, p.dataset || ''),
      el('dt', {}, t('packages.level')), el('dd', {}, p.classification ? levelBadge(p.classification, t) : ''),
      el('dt', {}, t('packages.size')), el('dd', {}, size(p.size)),
      el('dt', {}, t('requests.agreement')), el('dd', {}, r.agreement || '—', r.agreement_purpose ? ` (${r.agreement_purpose})` : ''),
      el('dt', {}, t('requests.approvals')),
      el('dd', { class: 'request-approvals' }, t('requests.approvals_count', { given: given.length, needed: r.approvals_needed ?? 1 }),
        given.length ? ` — ${t('requests.first_by', { who: given.map((a) => a.custodian).join(', ') })}` : '')),
    el('div', { class: 'filters' },
      el('label', {}, t('requests.days'), days), el('label', {}, t('requests.cap'), cap), approve),
    el('div', { class: 'filters' }, el('label', {}, t('requests.reason'), reason), refuse),
    status);
}

export async function requestsPage(main) {
  main.append(el('h1', {}, t('requests.title')));
  const list = el('div', { id: 'requests' });
  const reload = async () => {
    const open = await getJson('/v1/requests?state=open');
    clear(list);
    if (open.length === 0) list.append(el('p', { id: 'requests-empty' }, t('requests.none')));
    for (const r of open) list.append(requestCard(r, reload));
  };
  main.append(list);
  await reload();
}
