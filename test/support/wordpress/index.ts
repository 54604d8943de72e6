// WordPress test bed: a real WordPress (MariaDB + PHP-FPM + nginx) with independent sites.
export { connectWordPressStack, createStackClient } from './client.ts';
export { startWordPressStack, testWordPressRelease } from './stack.ts';
export type {
  StartWordPressStackOptions,
  WordPressNetwork,
  WordPressNetworkDescriptor,
  WordPressSite,
  WordPressStack,
  WordPressStackClient,
  WordPressStackCore,
  WordPressStackDescriptor,
  WordPressStackLogs,
} from './types.ts';
