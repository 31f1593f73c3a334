// The portal's frame: who is signed in, the language, the menu for the caller's roles, and the
// page named by the address (#/upload, #/packages, …).
import { getJson, explain } from './api.js';
import { el, clear, timeZone } from './format.js';
import { t, language, setLanguage } from './i18n.js';
import { homePage } from './page_home.js';
import { uploadPage } from './page_upload.js';
import { packagesPage } from './page_packages.js';
import { auditPage } from './page_audit.js';
import { requestsPage } from './page_requests.js';
import { agreementsPage } from './page_agreements.js';
import { adminPage } from './page_admin.js';

const pages = {
  '': { key: 'nav.home', show: () => true, render: homePage },
  upload: { key: 'nav.upload', show: (me) => me.roles.includes('producer'), render: uploadPage },
  mine: { key: 'nav.mine', show: (me) => me.roles.includes('producer'), render: (main, me) => packagesPage(main, me, true) },
  packages: { key: 'nav.packages', show: () => true, render: (main, me) => packagesPage(main, me, false) },
  requests: { key: 'nav.requests', show: (me) => me.roles.includes('custodian'), render: requestsPage },
  agreements: { key: 'nav.agreements', show: (me) => me.roles.includes('custodian'), render: agreementsPage },
  admin: { key: 'nav.admin', show: (me) => me.roles.includes('admin'), render: adminPage },
  audit: { key: 'nav.audit', show: (me) => me.roles.includes('auditor'), render: auditPage },
};

let me = null;

function current() {
  const name = location.hash.replace(/^#\/?/, '').split('?')[0];
  return name in pages ? name : '';
}

function renderFrame() {
  document.documentElement.lang = language();
  for (const button of document.querySelectorAll('.lang button'))
    button.setAttribute('aria-pressed', String(button.dataset.lang === language()));
  const who = clear(document.getElementById('who'));
  if (me) who.append(t('who.as', { name: me.name, id: me.id, roles: me.roles.map((r) => t(`role.${r}`)).join(', ') }));
  const nav = clear(document.getElementById('nav'));
  if (me) {
    for (const [name, page] of Object.entries(pages)) {
      if (!page.show(me)) continue;
      nav.append(el('a', { href: `#/${name}`, 'aria-current': name === current() ? 'page' : null, id: `nav-${name || 'home'}` }, t(page.key)));
    }
  }
  clear(document.getElementById('foot')).append(t('app.footer', { zone: timeZone() }));
}

async function render() {
  renderFrame();
  const main = clear(document.getElementById('main'));
  if (!me) return;
  const page = pages[current()];
  if (!page.show(me)) { location.hash = '#/'; return; }
  try {
    await page.render(main, me);
  } catch (error) {
    main.append(el('div', { class: 'error', role: 'alert' }, `${t('app.error')}: ${explain(error)}`));
  }
}

async function start() {
  for (const button of document.querySelectorAll('.lang button')) {
    button.addEventListener('click', () => { setLanguage(button.dataset.lang); render(); });
  }
  window.addEventListener('hashchange', render);
  try {
    me = await getJson('/v1/whoami');
  } catch (error) {
    renderFrame();
    const main = clear(document.getElementById('main'));
    main.append(el('div', { class: 'error', role: 'alert', id: 'no-certificate' },
      el('p', {}, t('app.no_certificate')), el('p', {}, error.message), el('p', {}, t('app.no_certificate_help'))));
    return;
  }
  render();
}

start();
