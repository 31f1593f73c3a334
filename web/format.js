// Building the page: every piece of text goes in as a text node, never as HTML, since file names,
// titles, purposes and reasons are chosen by other people.
import { language } from './i18n.js';

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'on') {
      for (const [event, handler] of Object.entries(value)) node.addEventListener(event, handler);
    } else if (name === 'text') {
      node.textContent = String(value);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else if (child instanceof Node) node.appendChild(child);
    else node.appendChild(document.createTextNode(String(child)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// The deployment's zone, from the start page ([portal] time_zone).
export function timeZone() {
  const meta = document.querySelector('meta[name="serambi-time-zone"]');
  const zone = meta ? meta.content : 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return zone;
  } catch {
    return 'UTC';
  }
}

function locale() { return language() === 'id' ? 'id-ID' : 'en-GB'; }

// Sizes in KB, MB, GB (of 1024), as Windows shows them.
export function size(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  const digits = unit === 0 ? 0 : value < 10 ? 1 : 0;
  return `${new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value)} ${units[unit]}`;
}

export function number(n) { return new Intl.NumberFormat(locale()).format(n); }

// A time in the deployment's zone, with UTC on hover.
export function time(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return el('span', { text: iso || '' });
  const local = new Intl.DateTimeFormat(locale(), {
    timeZone: timeZone(), year: 'numeric', month: 'short', day: 'numeric',
    hour: '2-digit', minute: '2-digit', timeZoneName: 'short',
  }).format(date);
  return el('time', { datetime: date.toISOString(), title: `UTC: ${date.toISOString().replace('.000', '')}` }, local);
}

export function levelBadge(level, t) {
  return el('span', { class: `level level-${level}` }, t(`level.${level}`));
}
