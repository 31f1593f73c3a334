// Checking the access log in the browser, trusting nothing the gateway says: a checkpoint's
// Ed25519 signature (C2SP signed-note) against a key the auditor pasted, an entry's inclusion and
// the log's consistency with the last checkpoint this browser saw (RFC 9162 proofs, SHA-256).
const encoder = new TextEncoder();

function fromBase64(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

function toBase64(bytes) {
  let raw = '';
  for (const b of bytes) raw += String.fromCharCode(b);
  return btoa(raw);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }

export class VerifyError extends Error {
  constructor(key, params = {}) {
    super(key);
    this.key = key;
    this.params = params;
  }
}

// A verifier key: NAME+HASH+BASE64(TYPE || Ed25519 public key), the hash binding name, type and
// key; type 0x01 for a log's key, 0x04 for a witness's (C2SP tlog-cosignature).
export async function parseVerifierKey(text, type = 1) {
  // The name holds no '+', but the base64 key may: split at the first two only.
  const trimmed = text.trim();
  const first = trimmed.indexOf('+');
  const second = first < 0 ? -1 : trimmed.indexOf('+', first + 1);
  if (first <= 0 || second < 0) throw new Error('NAME+HASH+KEY');
  const parts = [trimmed.slice(0, first), trimmed.slice(first + 1, second), trimmed.slice(second + 1)];
  if (!/^[0-9a-f]{8}$/.test(parts[1]) || /\s/.test(parts[0])) throw new Error('NAME+HASH+KEY');
  let key;
  try { key = fromBase64(parts[2]); } catch { throw new Error('base64'); }
  if (key.length !== 33 || key[0] !== type) throw new Error(type === 1 ? 'Ed25519' : 'cosignature/v1');
  const hash = await sha256(concat(encoder.encode(`${parts[0]}\n`), key));
  const expected = Array.from(hash.slice(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  if (expected !== parts[1]) throw new Error('hash');
  if (!crypto.subtle || !crypto.subtle.importKey) throw new VerifyError('verify.no_webcrypto');
  let publicKey;
  try {
    publicKey = await crypto.subtle.importKey('raw', key.slice(1), { name: 'Ed25519' }, false, ['verify']);
  } catch {
    throw new VerifyError('verify.no_webcrypto');
  }
  return { name: parts[0], keyHash: hash.slice(0, 4), publicKey };
}

// The checkpoint in a signed note, once a signature by `key` over its text verifies.
export async function verifyCheckpoint(note, key) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new VerifyError('verify.bad_note');
  const body = note.slice(0, split + 1);
  const lines = body.split('\n');
  if (lines.length < 4 || !/^(0|[1-9][0-9]{0,15})$/.test(lines[1]) || !Number.isSafeInteger(Number(lines[1])))
    throw new VerifyError('verify.bad_note');
  // The origin is the key's name: a checkpoint of another log, even signed by this key, is not this log's.
  if (lines[0] !== key.name) throw new VerifyError('verify.wrong_origin', { origin: lines[0] });
  let verified = false;
  for (const line of note.slice(split + 2).split('\n')) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match || match[1] !== key.name) continue;
    const signature = fromBase64(match[2]);
    if (signature.length !== 68 || !equal(signature.slice(0, 4), key.keyHash)) continue;
    // eslint-disable-next-line no-await-in-loop
    if (await crypto.subtle.verify({ name: 'Ed25519' }, key.publicKey, signature.slice(4), encoder.encode(body))) {
      verified = true;
    }
  }
  if (!verified) throw new VerifyError('verify.bad_signature');
  const root = fromBase64(lines[2]);
  if (root.length !== 32) throw new VerifyError('verify.bad_note');
  return { origin: lines[0], size: Number(lines[1]), root };
}

// The witnesses among `keys` (parsed with type 4) whose cosignature/v1 over the note's body
// verifies, with the time each gives; and the names of other signature lines nobody here can check.
export async function cosignersOf(note, keys, origin) {
  const split = note.indexOf('\n\n');
  if (split < 0) throw new VerifyError('verify.bad_note');
  const body = note.slice(0, split + 1);
  const verified = new Map();
  const unchecked = new Set();
  for (const line of note.slice(split + 2).split('\n')) {
    const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!match || match[1] === origin) continue;
    let signature;
    try { signature = fromBase64(match[2]); } catch { continue; }
    const key = keys.find((k) => k.name === match[1] && equal(signature.slice(0, 4), k.keyHash));
    if (!key || signature.length !== 76) { if (!verified.has(match[1])) unchecked.add(match[1]); continue; }
    let time = 0;
    for (const b of signature.slice(4, 12)) time = time * 256 + b;
    const message = encoder.encode(`cosignature/v1\ntime ${time}\n${body}`);
    // eslint-disable-next-line no-await-in-loop
    if (await crypto.subtle.verify({ name: 'Ed25519' }, key.publicKey, signature.slice(12), message)) {
      verified.set(key.name, time);
      unchecked.delete(key.name);
    } else {
      throw new VerifyError('verify.bad_cosignature', { name: key.name });
    }
  }
  return { verified: [...verified.entries()].map(([name, time]) => ({ name, time })), unchecked: [...unchecked] };
}

async function node(left, right) { return sha256(concat(Uint8Array.of(1), left, right)); }

export async function leafHash(entry) { return sha256(concat(Uint8Array.of(0), encoder.encode(entry))); }

// RFC 9162, 2.1.3.2.
export async function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = await node(p, r); // eslint-disable-line no-await-in-loop
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = await node(r, p); // eslint-disable-line no-await-in-loop
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

// RFC 9162, 2.1.4.2.
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first > second) return false;
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  let path = proof;
  if ((first & (first - 1)) === 0) path = [firstRoot, ...proof];
  if (path.length === 0) return false;
  let fn = first - 1, sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0], sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await node(c, fr); // eslint-disable-line no-await-in-loop
      sr = await node(c, sr); // eslint-disable-line no-await-in-loop
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = await node(sr, c); // eslint-disable-line no-await-in-loop
    }
    fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}

export function decodeHashes(list) {
  if (!Array.isArray(list) || list.length > 64) throw new VerifyError('verify.bad_note');
  return list.map((h) => {
    const bytes = fromBase64(String(h));
    if (bytes.length !== 32) throw new VerifyError('verify.bad_note');
    return bytes;
  });
}
export { toBase64, fromBase64 };
