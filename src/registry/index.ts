// The image registry adapter: one client for tag look-ups and manifest deletes.
export * from './registry-client.js';
