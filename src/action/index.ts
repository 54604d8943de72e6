import { actionsLogger } from './actions-logger.ts';
import { watchForCancellation } from './cancellation.ts';
import { runAction } from './main.ts';

// Listening from the first moment: a cancel during start-up stops the run before it begins.
await runAction(watchForCancellation(actionsLogger.info));
