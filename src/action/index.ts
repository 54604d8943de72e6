import { keepYoungGenerationSmall } from '../runtime/heap.ts';
import { actionsLogger } from './actions-logger.ts';
import { watchForCancellation } from './cancellation.ts';
import { runAction } from './main.ts';

// A sync allocates fast and lives in small containers: see src/runtime/heap.ts.
keepYoungGenerationSmall();

// Listening from the first moment: a cancel during start-up stops the run before it begins.
await runAction(watchForCancellation(actionsLogger.info));
