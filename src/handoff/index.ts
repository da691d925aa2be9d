// Group commit across processes: a write that finds the store's lock taken is handed to the process
// holding it. Light on purpose: a process that only hands its request over loads nothing else.
export { handOffOrLead, type Handoff, type HandoffOptions } from './handoff.js';
