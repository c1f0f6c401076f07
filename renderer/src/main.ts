import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { connectLab } from './bridge/index.js';
import { matchLocale } from '../../common/i18n/index.js';
import { createStores } from './stores/index.js';
import { initialLocale, LocaleStore, storedLocale } from './stores/locale.svelte.js';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

const storage = (() => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
})();

// The one place the page connects to its host and creates its state.
const { lab, onConnectionLost } = connectLab(window);
// First paint in the remembered language, else the browser's (navigator.languages, which Electron fills from the OS).
const i18n = new LocaleStore(initialLocale(storage, navigator.languages ?? [navigator.language]), storage);
const stores = createStores(lab, i18n);
onConnectionLost((reason) => stores.app.loseConnection(reason));

// The host's words (the Electron menu and About box) follow every switch.
i18n.onChange((locale) => void lab.setLanguage({ locale }));
void (async () => {
  // Electron: the OS's own preferred languages decide a first launch (no choice remembered yet).
  if (storedLocale(storage) === null) {
    const system = await lab.systemLanguages({});
    if (system.ok && system.value.length > 0) {
      i18n.setLocale(matchLocale(system.value));
      return;
    }
  }
  void lab.setLanguage({ locale: i18n.locale });
})();

export default mount(App, { target, props: { stores } });
