// The request an agent sends and every name derived from it: pure, the bottom of the domain.
export * from './agent.js';
export * from './git-ref.js';
export * from './names.js';
export { closestField, plainErrorMap } from './plain-errors.js';
export * from './quantity.js';
export * from './request.js';
export * from './redaction.js';
export * from './secret-values.js';
export { lazySchema } from './lazy-schema.js';
