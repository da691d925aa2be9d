// A one-shot process validates a dozen records once each: zod's compiled fast path for objects
// (built with `new Function` on each schema's first parse) costs more to compile than it saves.
// Imported first, as zod reads the setting while schemas are built.
import { z } from 'zod';

z.config({ jitless: true });
