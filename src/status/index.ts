// The state of a preview as an agent needs it: one model over git, the build, the engine, the
// cluster and the URL, with a reason and a fix for every state but ready.
export * from './observation.js';
export {
  previewStatus,
  PREVIEW_STATES,
  SETTLED_STATES,
  STATUS_REASONS,
  type PreviewState,
  type PreviewStatus,
  type StatusInput,
  type StatusReason,
} from './preview-status.js';
