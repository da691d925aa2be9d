// The CLI shell: every command over the library calls.
export { runCli } from './program.js';
