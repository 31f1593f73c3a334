// Who the caller is, their certificate's end, and what they can do here.
import { el, time } from './format.js';
import { t } from './i18n.js';

const DAY = 24 * 60 * 60 * 1000;

export function homePage(main, me) {
  main.append(el('h1', {}, t('home.title')));
  const ends = me.certificate_not_after ? new Date(me.certificate_not_after) : null;
  if (ends && !Number.isNaN(ends.getTime())) {
    const days = Math.floor((ends.getTime() - Date.now()) / DAY);
    if (days < 0) main.append(el('div', { class: 'error', role: 'alert', id: 'cert-warning' }, t('home.expired')));
    else if (days < 30) main.append(el('div', { class: 'notice', role: 'status', id: 'cert-warning' }, t('home.expires_soon', { days })));
  }
  main.append(el('div', { class: 'card' }, el('dl', { class: 'facts' },
    el('dt', {}, t('home.principal')), el('dd', { class: 'mono', id: 'me-id' }, me.id),
    el('dt', {}, t('home.name')), el('dd', {}, me.name),
    el('dt', {}, t('home.roles')), el('dd', {}, me.roles.map((r) => t(`role.${r}`)).join(', ')),
    el('dt', {}, t('home.certificate')), el('dd', {}, me.certificate_not_after ? time(me.certificate_not_after) : '—'),
    el('dt', {}, t('home.certificate_serial')), el('dd', { class: 'mono' }, me.certificate_serial))));
  const can = [];
  if (me.roles.includes('producer')) can.push(el('li', {}, el('a', { href: '#/upload' }, t('home.can_upload'))));
  can.push(el('li', {}, el('a', { href: '#/packages' }, t('home.can_read'))));
  if (me.roles.includes('custodian')) {
    can.push(el('li', {}, el('a', { href: '#/requests' }, t('home.can_release'))));
    can.push(el('li', {}, el('a', { href: '#/agreements' }, t('home.can_agree'))));
  }
  if (me.roles.includes('admin')) can.push(el('li', {}, el('a', { href: '#/admin' }, t('home.can_admin'))));
  if (me.roles.includes('auditor')) can.push(el('li', {}, el('a', { href: '#/audit' }, t('home.can_audit'))));
  main.append(el('h2', {}, t('home.what_next')), el('ul', {}, can));
}
