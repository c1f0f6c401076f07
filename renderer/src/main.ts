import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { connectLab } from './bridge/index.js';
import { createStores } from './stores/index.js';
import { LocaleStore } from './stores/locale.svelte.js';

const target = document.getElementById('app');
if (!target) throw new Error('index.html has no #app element');

// The one place the page connects to its host and creates its state.
const { lab, onConnectionLost } = connectLab(window);
const stores = createStores(lab, new LocaleStore('en'));
onConnectionLost((reason) => stores.app.loseConnection(reason));

export default mount(App, { target, props: { stores } });
