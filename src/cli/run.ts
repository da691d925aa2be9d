// Every command runs through here: errors become the contract's output and exit code, never a
// stack trace for a user error.
import { EXIT_OK } from '../errors/index.js';
import { reportError, type Output } from './output.js';

export type Action<O> = (options: O & { json?: boolean; _args: string[] }, out: Output) => Promise<number | void>;

export function run<O extends object>(action: Action<O>) {
  return async (...args: unknown[]) => {
    // commander passes positional arguments first, then the options object, then the command.
    const options = args[args.length - 2] as O & { json?: boolean };
    const out: Output = { json: Boolean(options.json) };
    let code: number;
    try {
      code = (await action({ ...options, _args: args.slice(0, -2) as string[] }, out)) ?? EXIT_OK;
    } catch (err) {
      code = reportError(out, err);
    }
    process.exitCode = code;
  };
}
