// The sample shop. The minipay client is created once, in services/minipay.ts.
App({});
