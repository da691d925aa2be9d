import type { FieldIssue } from '../spec/request.js';

/** The request is malformed: every problem, by field. Nothing was written. */
export class InvalidRequestError extends Error {
  constructor(readonly issues: readonly FieldIssue[]) {
    super(`the deploy request is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'InvalidRequestError';
  }
}

/** The gitops branch kept moving under us; nothing was written by this request. */
export class TooManyConflictsError extends Error {
  constructor(attempts: number) {
    super(`the gitops branch changed under ${attempts} attempts in a row; nothing was written, try again`);
    this.name = 'TooManyConflictsError';
  }
}
