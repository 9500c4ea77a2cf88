// babel-preset-taro compiles the app (and minipay's client library, see config/index.ts).
module.exports = {
  presets: [['taro', { framework: 'react', ts: true, compiler: 'webpack5' }]],
};
