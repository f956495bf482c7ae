// The only way the browser talks to the server: JSON over the API.
//
// Contract for page modules:
//   api(method, path, body?) -> Promise<{status, data}>
//     JSON in and out, the CSRF token on every request (the server wants it
//     on reads too: the cookie alone reaches nothing), Accept-Language, no
//     caching; status 0 when the network failed. A 401 while signed in starts
//     the shell's session-expired flow (the page keeps nothing to do).
//   download(path, filename) -> Promise<{status, data}>
//     GETs a file (an export) and hands it to the browser as a download
//     through a blob URL: nothing identifying ever goes in a URL.
import { lang } from './i18n.js';

// The CSRF token: every signed-in request carries it (the server refuses
// the cookie alone). It lives in this tab's sessionStorage, so that a reload
// stays signed in while another tab, or the next person who opens the
// browser left running, has only the cookie and reaches nothing. It is no
// victim data: the only other thing stored is the language.
const KEY = 'passerelle.csrf';
let csrf = (() => { try { return sessionStorage.getItem(KEY); } catch { return null; } })();
let expiredHandler = null;

export function setCsrf(token) {
  csrf = token;
  try {
    if (token) sessionStorage.setItem(KEY, token);
    else sessionStorage.removeItem(KEY);
  } catch { /* storage refused: the token stays in memory only */ }
}
export function signedIn() { return csrf !== null; }
export function onSessionExpired(fn) { expiredHandler = fn; }

function headers(body) {
  const h = { 'Accept': 'application/json', 'Accept-Language': lang() };
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (csrf) h['X-CSRF-Token'] = csrf;
  return h;
}

function expired(path) {
  if (csrf !== null && path !== '/api/v1/session') {
    setCsrf(null);
    if (expiredHandler) expiredHandler();
  }
}

export async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method, headers: headers(body), credentials: 'same-origin',
      cache: 'no-store', redirect: 'error',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { status: 0, data: null };
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (res.status === 401) expired(path);
  return { status: res.status, data };
}

export async function download(path, filename) {
  let res;
  try {
    res = await fetch(path, {
      method: 'GET', headers: headers(),
      credentials: 'same-origin', cache: 'no-store', redirect: 'error',
    });
  } catch {
    return { status: 0, data: null };
  }
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    if (res.status === 401) expired(path);
    return { status: res.status, data };
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return { status: res.status, data: null };
}

// The message of an API error, in the language the server answered in.
export function errorText(r, fallback) {
  if (r && r.data && r.data.error && r.data.error.message) return r.data.error.message;
  return fallback;
}
