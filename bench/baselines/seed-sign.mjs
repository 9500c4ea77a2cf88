// The seed-style baselines' WeChat Pay v2 MD5 signature, as tutorials write it: the non-empty
// fields but `sign`, sorted, joined as k=v&…, then &key=<APIv2 key>, MD5, upper case.
import { createHash } from 'node:crypto';

export function sign(data, key) {
  const str = Object.keys(data)
    .filter((k) => k !== 'sign' && data[k] !== undefined && data[k] !== '')
    .sort()
    .map((k) => `${k}=${data[k]}`)
    .join('&');
  return createHash('md5').update(`${str}&key=${key}`, 'utf8').digest('hex').toUpperCase();
}
