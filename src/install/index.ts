// `x1deploy install`: the workspace's in-cluster jobs, rendered into bootstrap/jobs/ (opt-in).
export { installJobs, JobsNotEnabledError, type InstallResult } from './install-jobs.js';
