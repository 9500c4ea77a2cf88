import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  fenToYuan,
  parseFen,
  unitsToYuan,
  yuanToFen,
  yuanToUnits,
} from '../../src/wechatpay/index.js';

describe('amounts without floats', () => {
  it('parses fen strictly', () => {
    assert.equal(parseFen('x', '0'), 0);
    assert.equal(parseFen('x', '9007199254740991'), 9007199254740991);
    for (const bad of ['', '01', '1.0', '-1', '+1', '1e3', ' 1', '1 ', '9007199254740992', '٣']) {
      assert.throws(() => parseFen('total_fee', bad), /total_fee must be a whole number of fen/);
    }
  });

  it('converts yuan with 2 and 5 decimals both ways, exactly', () => {
    assert.equal(yuanToFen('6.00'), 600);
    assert.equal(yuanToFen('0.07'), 7);
    assert.equal(yuanToFen('-0.01'), -1);
    assert.equal(yuanToUnits('0.04000', 5), 4000);
    assert.equal(yuanToUnits('-0.05940', 5), -5940);
    assert.equal(fenToYuan(7), '0.07');
    assert.equal(fenToYuan(123456), '1234.56');
    assert.equal(unitsToYuan(-5940, 5), '-0.05940');
    assert.equal(unitsToYuan(0, 5), '0.00000');
    for (const fen of [0, 1, 10, 99, 100, 101, 19999, 123456789])
      assert.equal(yuanToFen(fenToYuan(fen)), fen);
    // 0.1 + 0.2 style drift cannot happen: 0.29 yuan is 29 fen, not 28.999…
    assert.equal(yuanToFen('0.29'), 29);
    for (const bad of ['6', '6.0', '6.000', '06.00', '1e2', '-', '.50', '6,00']) {
      assert.throws(() => yuanToFen(bad), /not a yuan amount/);
    }
  });

  it('reads bill amounts digit by digit exactly as the pattern says', () => {
    // The definition yuanToUnits is read by, as a regular expression.
    const reference = (value: string, decimals: number) => {
      const m = /^(-?)(0|[1-9][0-9]{0,12})\.([0-9]+)$/.exec(value);
      if (!m || m[3]!.length !== decimals) return 'not';
      const units = Number(m[2]) * 10 ** decimals + Number(m[3]);
      if (!Number.isSafeInteger(units)) return 'large';
      return m[1] === '-' && units !== 0 ? -units : units;
    };
    const actual = (value: string, decimals: number) => {
      try {
        return yuanToUnits(value, decimals);
      } catch (err) {
        return /too large/.test((err as Error).message) ? 'large' : 'not';
      }
    };
    const values = [
      '0.00',
      '-0.00',
      '0.01',
      '-0.01',
      '6.00',
      '10.00',
      '00.00',
      '01.00',
      '+1.00',
      ' 1.00',
      '1.00 ',
      '--1.00',
      '-.00',
      '.00',
      '1.',
      '1..00',
      '1.0.0',
      '١.00',
      '1e2',
      '0x1.00',
      '9999999999999.99',
      '10000000000000.00',
      '-9999999999999.99',
      '0.04000',
      '-0.05940',
      '9999999999999.99999',
      '90071992547.40991',
      '90071992547.40992',
      '',
      '-',
      '.',
      '0',
      'a.bc',
    ];
    for (const value of values) {
      for (const decimals of [0, 1, 2, 5]) {
        assert.equal(actual(value, decimals), reference(value, decimals), `${value} (${decimals})`);
      }
    }
  });
});
