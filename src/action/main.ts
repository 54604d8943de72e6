// The GitHub Action entry: the only module that imports @actions/core.
import * as core from '@actions/core';
import { describeError } from '../errors.ts';
import { productName, productVersion } from '../version.ts';

export async function runAction(): Promise<void> {
  try {
    const configPath = core.getInput('config') || 'jobs.yaml';
    core.info(`${productName} ${productVersion}: config ${configPath}`);
    throw new Error(`${productName}: the sync command is not available in this version yet.`);
  } catch (error) {
    core.setFailed(describeError(error));
  }
}
