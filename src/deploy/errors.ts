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

/** The agent may not do this (no matching grant, or over a workspace limit). Nothing was written. */
export class DeniedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'DeniedError';
  }
}

/** A rollback that cannot be done as asked. Nothing was written. */
export class RollbackRefusedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RollbackRefusedError';
  }
}

/** No branch deploy matches the app and branch asked for. */
export class UnknownBranchDeployError extends Error {
  constructor(app: string, branch: string) {
    super(`app ${app} has no branch deploy for branch ${branch}; deploy it first (x1deploy list shows what exists)`);
    this.name = 'UnknownBranchDeployError';
  }
}
