import { runAction } from './main.ts';

await runAction();
