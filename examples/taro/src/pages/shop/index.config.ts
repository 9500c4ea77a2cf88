export default definePageConfig({ navigationBarTitleText: 'minipay shop' });
