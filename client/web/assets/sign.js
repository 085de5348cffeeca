// Signing in the browser (doc/console.md, "Keys stay in the browser"). The
// person's private key (key.pem of their credentials folder) is imported
// into WebCrypto as non-extractable: scripts can ask it to sign, nobody can
// read it back, and it never leaves this browser. It is kept in IndexedDB
// for this browser profile until sign-out, or until a call finds the session
// ended (a 401: app.js forgets it then too).
import { t } from './i18n.js';

const DB = 'custody-keys';

function pemBody(pem, label) {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([^-]+)-----END ${label}-----`));
  if (!m) throw new Error(`${t('not_pem')} ${label}`);
  return Uint8Array.from(atob(m[1].replace(/\s+/g, '')), (c) => c.charCodeAt(0));
}

export async function importKey(keyPem) {
  return crypto.subtle.importKey('pkcs8', pemBody(keyPem, 'PRIVATE KEY'),
                                 { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']);
}

function openDb() {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, 1);
    r.onupgradeneeded = () => r.result.createObjectStore('keys');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

async function store(mode, fn) {
  const db = await openDb();
  return new Promise((resolve, reject) => {
    const tx = db.transaction('keys', mode);
    const r = fn(tx.objectStore('keys'));
    tx.oncomplete = () => resolve(r && r.result);
    tx.onerror = () => reject(tx.error);
  });
}

export const saveIdentity = (id) => store('readwrite', (s) => s.put(id, 'me'));
export const loadIdentity = () => store('readonly', (s) => s.get('me'));
export const forgetIdentity = () => store('readwrite', (s) => s.delete('me'));

// WebCrypto's ECDSA signature is r||s; the nodes read DER (as OpenSSL writes).
function derInt(b) {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.slice(i);
  if (b[0] & 0x80) b = Uint8Array.of(0, ...b);
  return Uint8Array.of(0x02, b.length, ...b);
}

function toDer(raw) {
  const r = derInt(raw.slice(0, 32));
  const s = derInt(raw.slice(32));
  return Uint8Array.of(0x30, r.length + s.length, ...r, ...s);
}

export async function sign(key, bytes) {
  const raw = new Uint8Array(
    await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, key, bytes));
  return toDer(raw);
}

export function base64(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

// custody.v1.Decision in protobuf wire format (proto/custody/v1/access.proto):
// kind = 1, subject = 2, fields = 3 (map entries key = 1, value = 2),
// signer = 4, time_unix_nanos = 5, nonce = 6. The nodes check the signature
// over these exact bytes and read the decision from them.
function varint(n) {
  const out = [];
  let v = BigInt(n);
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

function field(no, bytes) {
  return [...varint((no << 3) | 2), ...varint(bytes.length), ...bytes];
}

const utf8 = (s) => [...new TextEncoder().encode(s)];

export function encodeDecision({ kind, subject, fields, signer }) {
  const nonce = crypto.getRandomValues(new Uint8Array(16));
  let out = [...field(1, utf8(kind)), ...field(2, utf8(subject))];
  for (const k of Object.keys(fields).sort()) {
    out = out.concat(field(3, [...field(1, utf8(k)), ...field(2, utf8(fields[k]))]));
  }
  out = out.concat(field(4, utf8(signer)));
  out = out.concat([...varint(5 << 3), ...varint(BigInt(Date.now()) * 1000000n)]);
  out = out.concat(field(6, [...nonce]));
  return new Uint8Array(out);
}

// A SignedDecision as proto3 JSON (bytes as base64), for the relay.
export async function signDecision(identity, decision) {
  const bytes = encodeDecision({ ...decision, signer: identity.user });
  const prefix = new TextEncoder().encode('custody decision v1\n');
  const msg = new Uint8Array(prefix.length + bytes.length);
  msg.set(prefix);
  msg.set(bytes, prefix.length);
  return {
    decision: base64(bytes),
    signature: base64(await sign(identity.key, msg)),
    certificate_pem: identity.certificate,
  };
}
