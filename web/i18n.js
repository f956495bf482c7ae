// Labels in French (default) and English; the choice is kept in
// localStorage (a language, never victim data).
const labels = {
  fr: {
    signin_title: 'Connexion', username: 'Identifiant', password: 'Mot de passe',
    signin: 'Se connecter', home_title: 'Tableau de bord', cases: 'Dossiers',
    reference: 'Référence', name: 'Nom', stage: 'Étape', age_band: "Tranche d'âge",
    opened: 'Ouvert le', no_cases: 'Aucun dossier visible pour votre organisation.',
    pending_incoming_referrals: ' orientations reçues en attente',
    overdue_referrals: ' orientations en retard', overdue_cases: ' dossiers en retard',
    logout: 'Se déconnecter', other_lang: 'English', error: 'Erreur',
  },
  en: {
    signin_title: 'Sign in', username: 'User name', password: 'Password',
    signin: 'Sign in', home_title: 'Dashboard', cases: 'Cases',
    reference: 'Reference', name: 'Name', stage: 'Stage', age_band: 'Age band',
    opened: 'Opened', no_cases: 'No case visible to your organisation.',
    pending_incoming_referrals: ' incoming referrals waiting',
    overdue_referrals: ' overdue referrals', overdue_cases: ' overdue cases',
    logout: 'Sign out', other_lang: 'Français', error: 'Error',
  },
};

export function lang() {
  const l = localStorage.getItem('passerelle.lang');
  return l === 'en' ? 'en' : 'fr';
}

export function setLang(l) {
  localStorage.setItem('passerelle.lang', l === 'en' ? 'en' : 'fr');
}

export function t(key) {
  return labels[lang()][key] ?? key;
}

export function applyLabels() {
  document.documentElement.lang = lang();
  for (const el of document.querySelectorAll('[data-t]'))
    el.textContent = t(el.dataset.t);
  document.getElementById('lang').textContent = t('other_lang');
  document.getElementById('logout').textContent = t('logout');
}
