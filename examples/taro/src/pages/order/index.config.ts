export default definePageConfig({ navigationBarTitleText: 'Your order' });
