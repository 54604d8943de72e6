// WordPress test bed: a real WordPress (MariaDB + PHP-FPM + nginx) with independent sites.
export { connectWordPressStack, createStackClient } from './client.ts';
export { startWordPressStack } from './stack.ts';
export type {
  StartWordPressStackOptions,
  WordPressSite,
  WordPressStack,
  WordPressStackClient,
  WordPressStackDescriptor,
  WordPressStackLogs,
} from './types.ts';
