// What an agent asks after deploying: is it up (and if not, why), what did it log, what does it
// serve. Reads only; the cluster and the URL are reached through ports.
export {
  liveStatus,
  parsePreviewRef,
  reportObserved,
  PreviewRefSchema,
  waitForSettled,
  workspaceStatuses,
  type LiveStatus,
  type ObservePorts,
  type PreviewRef,
  type WaitOptions,
} from './live-status.js';
export { LogsRequestSchema, MAX_LOG_BYTES, MAX_LOG_LINES, NoLogError, previewLogs, type LogsRequest, type PreviewLogs } from './logs.js';
export { fetchPreview, FetchRequestSchema, MAX_PAGE_BYTES } from './fetch.js';
export { previewObservation } from './scope.js';
export { observePortsFromEnv, PROBE_TIMEOUT_MS } from './ports.js';
