import type { UsageLog } from './entities.ts';

/**
 * Usage logs as CSV (RFC 4180): a header row, CRLF line ends, and a field quoted (its quotes
 * doubled) when it holds a comma, a quote or a line break, or a semicolon (the separator
 * spreadsheets use in many locales: unquoted, `x;=…` would open a cell with a formula). Text
 * that a spreadsheet would run as a formula (=, +, -, @, tab, CR first) is prefixed with `'`
 * (OWASP, CSV injection).
 * Costs are in USD with six decimals, converted exactly from the stored micro-USD.
 */
type Cell = string | number | undefined;

const COLUMNS: Array<[header: string, value: (log: UsageLog) => Cell]> = [
  ['usageId', (l) => l.usageId],
  ['requestAt', (l) => l.requestAt],
  ['responseAt', (l) => l.responseAt],
  ['durationMs', (l) => l.durationMs],
  ['status', (l) => l.status],
  ['agentType', (l) => l.agentType],
  ['provider', (l) => l.provider],
  ['model', (l) => l.model],
  ['userId', (l) => l.userId],
  ['apiClientId', (l) => l.apiClientId],
  ['chatId', (l) => l.chatId],
  ['generationRequestId', (l) => l.generationRequestId],
  ['inputTokens', (l) => l.inputTokens],
  ['outputTokens', (l) => l.outputTokens],
  ['totalTokens', (l) => l.totalTokens],
  ['inputCostUsd', (l) => usd(l.inputCostMicros)],
  ['outputCostUsd', (l) => usd(l.outputCostMicros)],
  ['totalCostUsd', (l) => usd(l.totalCostMicros)],
  ['credits', (l) => l.credits],
  ['metadata', (l) => (l.metadata === undefined ? undefined : JSON.stringify(l.metadata))],
];

export const USAGE_CSV_HEADER = COLUMNS.map(([header]) => header);

/** 1234567 micro-USD → "1.234567", without floating point. */
export function usd(micros: number): string {
  const whole = Math.floor(micros / 1_000_000);
  return `${whole}.${String(micros - whole * 1_000_000).padStart(6, '0')}`;
}

export function csvField(value: Cell): string {
  if (value === undefined) return '';
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",;\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function usageCsv(logs: readonly UsageLog[]): string {
  const lines = [USAGE_CSV_HEADER.join(','), ...logs.map((log) => COLUMNS.map(([, value]) => csvField(value(log))).join(','))];
  return lines.join('\r\n') + '\r\n';
}
