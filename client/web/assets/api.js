// Calls to the console: every node call goes through /api/call/SERVICE/METHOD
// with the session's CSRF token; a refusal carries the node's own message.
import { t } from './i18n.js';

let csrf = '';
let epoch = 0;          // moves on with every new session
let onExpired = null;   // called when the session's answer is 401
export function setCsrf(token) {
  csrf = token;
  epoch += 1;
}
// `fn` runs when a call answers 401 (the session ended, or there is none):
// the page forgets the person's key (sign.js) and shows the sign-in page.
// A late answer to a call of an earlier session does not run it.
export function setExpiredHandler(fn) { onExpired = fn; }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function answer(r, sent) {
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    const e = new ApiError(r.status, body && body.code || `HTTP ${r.status}`,
                           body && body.message || r.statusText);
    if (r.status === 401 && sent === epoch && onExpired) await onExpired(e);
    throw e;
  }
  return body;
}

// fetch, with a console that does not answer as an ApiError too.
async function send(path, options) {
  const sent = epoch;
  let r;
  try {
    r = await fetch(path, { ...options, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', `${t('no_console')} ${e.message}`);
  }
  return answer(r, sent);
}

export async function post(path, body, withCsrf = true) {
  const headers = { 'Content-Type': 'application/json' };
  if (withCsrf) headers['X-CSRF-Token'] = csrf;
  return send(path, { method: 'POST', headers, body: JSON.stringify(body || {}) });
}

export async function get(path) {
  return send(path, {});
}

// A node call, e.g. call('custody.v1.Records/List', {target: 'shop'}).
export const call = (method, req) => post(`/api/call/${method}`, req);
