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

// Pushes one file; XMLHttpRequest, because fetch reports no upload progress.
export function upload(datasetId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const [owner, name] = datasetId.split('/');
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/datasets/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/packages`);
    xhr.setRequestHeader('Serambi-Client', 'portal');
    xhr.setRequestHeader('Serambi-Filename*', extendedValue(file.name));
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded, event.total); };
    xhr.onload = () => {
      if (xhr.status === 201 && xhr.response) resolve(xhr.response);
      else reject(new ApiError(xhr.status, (xhr.response && xhr.response.detail) || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'network'));
    xhr.send(file);
  });
}
