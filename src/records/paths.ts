// Where each record lives in the gitops repo (DESIGN.md: gitops repo layout).
export const WORKSPACE_FILE = 'x1deploy.yaml';
export const APPS_DIR = 'apps';

export function appRecordPath(app: string): string {
  return `${APPS_DIR}/${app}/app.yaml`;
}

export function branchesDir(app: string): string {
  return `${APPS_DIR}/${app}/branches`;
}

export function deployRecordPath(app: string, slug: string): string {
  return `${branchesDir(app)}/${slug}/deploy.yaml`;
}
