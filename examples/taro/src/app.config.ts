export default defineAppConfig({
  pages: ['pages/shop/index', 'pages/order/index'],
  window: {
    navigationBarTitleText: 'minipay · Taro',
    navigationBarBackgroundColor: '#07c160',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f6f6f6',
  },
});
