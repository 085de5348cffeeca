// A small DOM builder: text is always set as text, never parsed as HTML, so
// nothing a node returns can run as script.
import { dateTime } from './i18n.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function show(root, ...children) {
  root.replaceChildren(...children.flat().filter((c) => c));
}

// Nanoseconds since 1970 (as proto3 JSON: a string) to milliseconds.
export const millis = (ns) => Number(BigInt(ns || '0') / 1000000n);

// Nanoseconds since 1970 to the time in the chosen language's format.
export function when(ns) {
  if (!ns || ns === '0') return '';
  return dateTime(millis(ns));
}

// A time as RFC 3339 text (the register's "2026-12-06T09:00:00.000Z") in the
// chosen language's format; text that is not a time is shown as it is.
export function whenText(s) {
  const ms = Date.parse(s || '');
  return Number.isNaN(ms) ? (s || '') : dateTime(ms);
}

export function table(headers, rows) {
  return h('table', {},
    h('thead', {}, h('tr', {}, headers.map((x) => h('th', {}, x)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))));
}
