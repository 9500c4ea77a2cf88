import { createApp } from 'vue';
import '../common/base.css';
import './console.css';
import AdminApp from './AdminApp.vue';

createApp(AdminApp).mount('#app');
