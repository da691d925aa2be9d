// `x1deploy install`: the workspace's in-cluster jobs, rendered into bootstrap/jobs/ (opt-in).
export { installJobs, renderJobsBootstrap, JOBS_DIR, JobsConfigError, JobsNotEnabledError, type InstallResult } from './render-jobs.js';
