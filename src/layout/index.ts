// The gitops repo layout: every path x1deploy builds or parses.
export * from './repo-layout.js';
