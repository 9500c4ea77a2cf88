import { createApp } from 'vue';
import '../shared/base.css';
import DemoPhone from './DemoPhone.vue';

createApp(DemoPhone).mount('#app');
