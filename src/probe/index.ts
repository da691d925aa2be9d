// Reaching a preview over HTTP(S): the URL probe of the status model and fetch_preview.
export { fetchPage, parseResolve, probePreview, PreviewUnreachableError, type FetchedPage, type FetchOptions } from './fetch-preview.js';
