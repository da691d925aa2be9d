// The error taxonomy: one base error with a kind, and one mapping from kinds to answers.
export {
  ERROR_KINDS,
  X1Error,
  isX1Error,
  InvalidRequestError,
  DeniedError,
  UsageError,
  type ErrorKind,
  type FieldIssue,
} from './x1-error.js';
export {
  EXIT_OK,
  EXIT_INVALID,
  EXIT_INTERNAL,
  EXIT_DENIED,
  EXIT_FAILURES,
  EXIT_IN_PROGRESS,
  EXIT_NOT_READY,
  INTERNAL_ERROR_MESSAGE,
  exitCodeFor,
  kindOf,
  errorAnswer,
  errorFromAnswer,
  errorText,
  type ErrorAnswer,
} from './answers.js';
