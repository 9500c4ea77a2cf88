import { createApp } from 'vue';
import '../common/base.css';
import DemoPhone from './DemoPhone.vue';

createApp(DemoPhone).mount('#app');
