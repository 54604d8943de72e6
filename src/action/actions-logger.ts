// Logs through the Actions toolkit, so warnings and errors become annotations.
import * as core from '@actions/core';
import type { Logger } from '../log/logger.ts';

export const actionsLogger: Logger = {
  debug: (message) => core.debug(message),
  info: (message) => core.info(message),
  warn: (message) => core.warning(message),
  error: (message) => core.error(message),
};
