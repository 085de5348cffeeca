// Calls to the console: every node call goes through /api/call/SERVICE/METHOD
// with the session's CSRF token; a refusal carries the node's own message.
let csrf = '';
export function setCsrf(t) { csrf = t; }

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function answer(r) {
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (!r.ok) {
    throw new ApiError(r.status, body && body.code || `HTTP ${r.status}`,
                       body && body.message || r.statusText);
  }
  return body;
}

export async function post(path, body, withCsrf = true) {
  const headers = { 'Content-Type': 'application/json' };
  if (withCsrf) headers['X-CSRF-Token'] = csrf;
  return answer(await fetch(path, {
    method: 'POST', headers, body: JSON.stringify(body || {}), credentials: 'same-origin',
  }));
}

export async function get(path) {
  return answer(await fetch(path, { credentials: 'same-origin' }));
}

// A node call, e.g. call('custody.v1.Records/List', {target: 'shop'}).
export const call = (method, req) => post(`/api/call/${method}`, req);
