// x1deploy install: render the workspace's in-cluster jobs into bootstrap/jobs/ (opt-in, one commit).
import type { Command } from 'commander';
import { openGitopsStore } from '../../gitops/index.js';
import { installJobs, JobsNotEnabledError } from '../../install/index.js';
import { JOBS_DIR } from '../../layout/index.js';
import { JobsConfigError } from '../../render/index.js';
import { printResult } from '../output.js';
import { UsageError } from '../../errors/index.js';
import { REPO_OPTION, REPO_OPTION_HELP } from '../options.js';
import { run } from '../run.js';

export function register(program: Command): void {
  program
    .command('install')
    .description(`render the in-cluster build and reap jobs into ${JOBS_DIR}/ (needs jobs.enabled in x1deploy.yaml; one commit)`)
    .requiredOption(REPO_OPTION, REPO_OPTION_HELP)
    .option('--json', 'print one JSON object')
    .action(
      run<{ repo: string }>(async (o, out) => {
        const store = await openGitopsStore(o.repo);
        let result;
        try {
          result = await installJobs(store);
        } catch (err) {
          if (err instanceof JobsNotEnabledError || err instanceof JobsConfigError) throw new UsageError(err.message);
          throw err;
        }
        const text = !result.commit
          ? `${JOBS_DIR}/ is up to date, nothing to commit`
          : result.written.length
            ? `Rendered ${result.written.length} files into ${JOBS_DIR}/ (${result.commit.slice(0, 12)}); a cluster admin applies them with: kubectl apply -k ${JOBS_DIR}`
            : `Removed ${JOBS_DIR}/ (jobs.enabled is false) (${result.commit.slice(0, 12)}); delete the objects from the cluster with: kubectl delete -k <previous checkout>/${JOBS_DIR}`;
        printResult(out, { commit: result.commit ?? null, written: result.written, removed: result.removed }, text);
      }),
    );
}
