import { describe, expect, it } from 'vitest';
import { csvField, usageCsv, usd, USAGE_CSV_HEADER } from './csv.ts';
import type { UsageLog } from './entities.ts';

describe('usage CSV', () => {
  it('writes costs as exact USD with six decimals', () => {
    expect(usd(0)).toBe('0.000000');
    expect(usd(875)).toBe('0.000875');
    expect(usd(1_234_567)).toBe('1.234567');
    expect(usd(123_456_789_000_001)).toBe('123456789.000001');
  });

  it('quotes a field with a comma, a quote or a line break, doubling its quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    // A semicolon separates cells in many locales' spreadsheets: quoted, `=…` after it opens no formula.
    expect(csvField('chat;=1+1')).toBe('"chat;=1+1"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(-0)).toBe('0');
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("http://evil")')).toBe(`"'=HYPERLINK(""http://evil"")"`);
    expect(csvField('+1')).toBe("'+1");
    expect(csvField('@sum')).toBe("'@sum");
    expect(csvField('-2')).toBe("'-2");
  });

  it('has a header row and one CRLF-ended line per log, in the header’s order', () => {
    const log = {
      usageId: 'use_1',
      model: 'm',
      inputCostMicros: 1,
      outputCostMicros: 2,
      totalCostMicros: 3,
      metadata: { a: 1 },
    } as unknown as UsageLog;
    const lines = usageCsv([log]).split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(USAGE_CSV_HEADER.join(','));
    expect(lines[2]).toBe('');
    const cells = lines[1]!.split(',');
    expect(cells).toHaveLength(USAGE_CSV_HEADER.length);
    expect(cells[USAGE_CSV_HEADER.indexOf('model')]).toBe('m');
    expect(cells[USAGE_CSV_HEADER.indexOf('totalCostUsd')]).toBe('0.000003');
    expect(cells[USAGE_CSV_HEADER.indexOf('metadata')]).toBe('"{""a"":1}"');
    expect(cells[USAGE_CSV_HEADER.indexOf('userId')]).toBe('');
  });
});
