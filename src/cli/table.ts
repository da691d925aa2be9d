// Tables people can read: a header row, aligned columns, one line per row (a long or multi-line
// cell is cut to its first line), through cli-table3 without its box drawing.
import Table from 'cli-table3';

const PLAIN = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

const MAX_CELL = 80;

/** One line of a cell: its first line, cut to MAX_CELL characters. */
export function oneLine(value: string | number | null | undefined): string {
  const text = value === null || value === undefined ? '-' : String(value);
  const first = text.split('\n')[0]!.trimEnd();
  const more = first !== text.trimEnd();
  const cut = first.length > MAX_CELL ? `${first.slice(0, MAX_CELL - 1)}…` : first;
  return more && !cut.endsWith('…') ? `${cut} …` : cut;
}

export function renderTable(head: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  const table = new Table({ head: [...head], chars: PLAIN, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
  for (const row of rows) table.push(row.map(oneLine));
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
