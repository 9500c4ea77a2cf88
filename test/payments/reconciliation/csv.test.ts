import assert from 'node:assert/strict';
import { test } from 'node:test';
import { csvLine } from '../../../src/payments/reconciliation/reconciliation-reports.js';

test('CSV lines: RFC 4180 quoting; cells a spreadsheet would run as formulas are defused', () => {
  assert.equal(csvLine(['a', 'b c', '']), 'a,b c,\r\n');
  assert.equal(csvLine(['x,y', 'say "hi"', 'two\nlines']), '"x,y","say ""hi""","two\nlines"\r\n');
  assert.equal(
    csvLine(['=HYPERLINK("http://evil")', '+1', '-2', '@SUM(A1)', '\tx']),
    `"'=HYPERLINK(""http://evil"")",'+1,'-2,'@SUM(A1),'\tx\r\n`,
  );
});
