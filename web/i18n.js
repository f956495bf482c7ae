// Labels in French (default) and English.
//
// Contract for page modules (web/pages/*.js):
//   t(key, vars?)          the label in the current language; "{name}" in a
//                          label is replaced by vars.name (as text, never HTML)
//   lang()                 'fr' or 'en'
//   setLang(l)             switch language, remember it, tell the listeners
//   addStrings({fr:{..}, en:{..}})  a page adds its own labels when loaded
//   onLangChange(fn)       fn(lang) after each switch; returns an unsubscribe
// Only the chosen language is ever kept in localStorage: never victim data.
const KEY = 'passerelle.lang';
const labels = {
  fr: {
    skip_to_content: 'Aller au contenu', signin_title: 'Connexion',
    username: 'Identifiant', password: 'Mot de passe', signin: 'Se connecter',
    logout: 'Se déconnecter', other_lang: 'English', error: 'Erreur', my_password: 'Mot de passe',
    nav: 'Navigation principale', nav_home: 'Accueil', nav_new: 'Nouveau dossier',
    nav_inbox: 'Orientations reçues', nav_stats: 'Statistiques',
    nav_admin: 'Administration', nav_audit: 'Journal d\'audit', nav_accounts: 'Comptes',
    signed_in_as: '{user} · {org}',
    expired: 'Votre session a pris fin après une période d\'inactivité. Reconnectez-vous pour continuer : ce que vous aviez saisi est conservé.',
    signed_out: 'Vous êtes déconnecté.',
    signed_out_unsure: 'Déconnexion non confirmée par le serveur : fermez le navigateur sur un ordinateur partagé.',
    other_user: 'Un autre compte s\'est connecté : les saisies non enregistrées de la session précédente ont été effacées.',
    bad_login: 'Identifiant ou mot de passe incorrect.',
    throttled: 'Trop de tentatives. Patientez avant de réessayer.',
    network: 'Le serveur ne répond pas. Vérifiez la connexion et réessayez.',
    loading: 'Chargement…', not_available: 'Cette page n\'est pas encore disponible.',
    not_found_page: 'Page introuvable.', forbidden_page: 'Vous n\'avez pas accès à cette page.',
    page_error: 'La page n\'a pas pu s\'afficher. Réessayez.',
    required: 'Ce champ est obligatoire.',
  },
  en: {
    skip_to_content: 'Skip to content', signin_title: 'Sign in',
    username: 'User name', password: 'Password', signin: 'Sign in',
    logout: 'Sign out', other_lang: 'Français', error: 'Error', my_password: 'Password',
    nav: 'Main navigation', nav_home: 'Home', nav_new: 'New case',
    nav_inbox: 'Incoming referrals', nav_stats: 'Statistics',
    nav_admin: 'Administration', nav_audit: 'Audit trail', nav_accounts: 'Accounts',
    signed_in_as: '{user} · {org}',
    expired: 'Your session ended after a period of inactivity. Sign in again to continue: what you had typed is kept.',
    signed_out: 'You are signed out.',
    signed_out_unsure: 'The server did not confirm the sign-out: close the browser on a shared computer.',
    other_user: 'Another account signed in: unsaved input from the previous session was discarded.',
    bad_login: 'Wrong user name or password.',
    throttled: 'Too many attempts. Wait before trying again.',
    network: 'The server does not answer. Check the connection and try again.',
    loading: 'Loading…', not_available: 'This page is not available yet.',
    not_found_page: 'Page not found.', forbidden_page: 'You do not have access to this page.',
    page_error: 'The page could not be shown. Try again.',
    required: 'This field is required.',
  },
};
const listeners = new Set();

function stored() {
  try { return localStorage.getItem(KEY); } catch { return null; }
}

let current = stored() === 'en' ? 'en' : 'fr';

export function lang() { return current; }

export function setLang(l) {
  current = l === 'en' ? 'en' : 'fr';
  try { localStorage.setItem(KEY, current); } catch { /* private mode */ }
  document.documentElement.lang = current;
  for (const fn of [...listeners]) {
    try { fn(current); } catch (e) { console.warn(e); }
  }
}

export function addStrings(more) {
  for (const l of ['fr', 'en'])
    if (more && more[l]) Object.assign(labels[l], more[l]);
}

// Every label known so far in one language (the browser tests compare them).
export function strings(l) { return { ...labels[l === 'en' ? 'en' : 'fr'] }; }

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function t(key, vars) {
  let s = labels[current][key] ?? labels.fr[key] ?? key;
  if (vars)
    s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

// Static labels of index.html: elements with data-t="key".
export function applyLabels(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-t]'))
    el.textContent = t(el.dataset.t);
}
