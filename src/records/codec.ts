// Reading and writing x1deploy's own YAML files. Every read is validated: a hand-corrupted file
// gives an error naming the file and the field, never a crash or a silent default.
import { parse, stringify } from 'yaml';
import type { z } from 'zod';
import { X1Error } from '../errors/index.js';

export class RecordFileError extends X1Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(
      'invalid',
      `${file} is not valid: ${problems.join('; ')}. Fix the file (or revert the commit that changed it) and run the command again.`,
    );
  }
}

export function parseRecord<S extends z.ZodType>(file: string, text: string, schema: S): z.output<S> {
  let data: unknown;
  try {
    data = parse(text, { prettyErrors: true });
  } catch (err) {
    throw new RecordFileError(file, [`it is not YAML (${(err as Error).message.split('\n')[0]})`]);
  }
  const result = schema.safeParse(data);
  if (!result.success) {
    throw new RecordFileError(
      file,
      result.error.issues.map((i) => `${i.path.map(String).join('.') || '(top level)'}: ${i.message}`),
    );
  }
  return result.data;
}

/** Stable YAML: no line folding, so the same data is always the same bytes. */
export function stringifyRecord(data: unknown): string {
  return stringify(data, { lineWidth: 0, minContentWidth: 0 });
}
