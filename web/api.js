// The portal is a client of the public API, like the CLI: no route of its own beyond its files.
// Every request carries Serambi-Client: portal, which the gateway requires of a browser's changes
// and which another site's page cannot send.
import { t } from './i18n.js';

const PORTAL = { 'Serambi-Client': 'portal' };

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function failure(response) {
  let detail = `${response.status} ${response.statusText}`;
  try {
    const problem = await response.json();
    if (problem && typeof problem.detail === 'string') detail = problem.detail;
  } catch { /* not JSON: the status says enough */ }
  return new ApiError(response.status, detail);
}

// What went wrong, in the user's language, then the gateway's own words (in English).
export function explain(error) {
  if (!(error instanceof ApiError)) return error.message;
  const known = [0, 400, 401, 403, 404, 409, 413, 422, 429, 503, 507];
  const status = known.includes(error.status) ? error.status : error.status >= 500 ? 500 : 400;
  const detail = error.status === 0 ? '' : ` (${error.message})`;
  return `${t(`status.${status}`)}${detail}`;
}

export async function get(path) {
  const response = await fetch(path, { headers: PORTAL, credentials: 'same-origin', cache: 'no-store' });
  if (!response.ok) throw await failure(response);
  return response;
}

export async function getJson(path) { return (await get(path)).json(); }
export async function getText(path) { return (await get(path)).text(); }

export async function postJson(path, body) {
  const response = await fetch(path, {
    method: 'POST', credentials: 'same-origin',
    headers: { ...PORTAL, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await failure(response);
  return response.json();
}

// RFC 8187: a header cannot carry UTF-8, so the name goes as UTF-8''percent-encoded.
function extendedValue(text) {
  return `UTF-8''${encodeURIComponent(text).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

// One request with XMLHttpRequest, because fetch reports no upload progress. Resolves with the
// request whatever its status; rejects (status 0) only when the link failed.
function send(method, url, headers, body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.responseType = 'json';
    if (onProgress) xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded); };
    xhr.onload = () => resolve(xhr);
    xhr.onerror = () => reject(new ApiError(0, 'network'));
    xhr.ontimeout = () => reject(new ApiError(0, 'network'));
    xhr.send(body);
  });
}

function refusal(xhr) {
  return new ApiError(xhr.status, (xhr.response && xhr.response.detail) || `HTTP ${xhr.status}`);
}

// Upload-Metadata values are base64 of the UTF-8 bytes.
function base64(text) {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

const TUS = { ...PORTAL, 'Tus-Resumable': '1.0.0' };
const PART = 4 * 1024 * 1024;  // a dropped link costs at most this much again
const ATTEMPTS = 10;

// Pushes one file as a resumable upload (tus 1.0.0), the protocol `serambi push` uses: sent in
// parts, each part retried with backoff when the link drops, continuing from the offset the
// gateway holds. The upload's address is kept in this browser (localStorage) under the file's
// name, size and date, so that choosing the same file again after a reload, or on another day
// before it expires, continues it. `onRetry(seconds)` is told of each wait.
export async function upload(datasetId, file, onProgress, onRetry = () => {}) {
  const key = `serambi.upload|${datasetId}|${file.name}|${file.size}|${file.lastModified}`;
  let url = localStorage.getItem(key);
  let failures = 0;
  let done = false;
  while (!done) {
    try {
      let offset = 0;
      if (url) {
        const head = await send('HEAD', url, TUS, null);
        if (head.status === 404) {
          localStorage.removeItem(key);
          url = null;
          continue;
        }
        if (head.status !== 200) throw refusal(head);
        offset = Number(head.getResponseHeader('Upload-Offset') || 0);
        done = Boolean(head.getResponseHeader('Serambi-Package-Id'));
      } else {
        const created = await send('POST', '/v1/uploads', {
          ...TUS,
          'Upload-Length': String(file.size),
          'Upload-Metadata': [['dataset', datasetId], ['filename', file.name],
            ['filetype', file.type || 'application/octet-stream']].map(([k, v]) => `${k} ${base64(v)}`).join(','),
        }, null);
        if (created.status !== 201) throw refusal(created);
        url = created.getResponseHeader('Location');
        localStorage.setItem(key, url);
      }
      while (!done && offset < file.size) {
        const from = offset;
        const part = file.slice(from, Math.min(from + PART, file.size));
        // eslint-disable-next-line no-await-in-loop
        const patched = await send('PATCH', url, {
          ...TUS, 'Upload-Offset': String(from), 'Content-Type': 'application/offset+octet-stream',
        }, part, (loaded) => onProgress(from + loaded, file.size));
        if (patched.status === 409) break;  // the gateway holds another offset: ask it again
        if (patched.status !== 204) throw refusal(patched);
        offset = Number(patched.getResponseHeader('Upload-Offset'));
        done = Boolean(patched.getResponseHeader('Serambi-Package-Id'));
        onProgress(offset, file.size);
        failures = 0;
      }
    } catch (error) {
      const transient = error instanceof ApiError && (error.status === 0 || error.status === 503);
      failures += 1;
      if (!transient || failures > ATTEMPTS) throw error;
      const seconds = Math.min(30, 0.5 * 2 ** (failures - 1));
      onRetry(seconds);
      // eslint-disable-next-line no-await-in-loop
      await new Promise((resolve) => { setTimeout(resolve, seconds * 1000); });
    }
  }
  const record = await getJson(url);
  localStorage.removeItem(key);
  return record.receipt;
}
