// Small jobs.yaml texts for the config tests.
export const tenantId = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const clientId = '0b5a3c1e-2f4d-4e6a-8b9c-1d2e3f4a5b6c';

/** A valid file with one job; `job` lines are appended to the job (indented by 4). */
export function configWithJob(job = '', top = ''): string {
  return `graph:
  tenantId: ${tenantId}
  clientId: ${clientId}
wordpress:
  url: https://intranet.example.com
  username: entra-sync
${top}jobs:
  - name: staff
    source:
      users: {}
${job}`;
}
