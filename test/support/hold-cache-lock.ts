// A process that takes a cache clone's lock, says "held" and keeps it until it is killed: a leader
// that dies holding the lock, for the handoff tests. Usage: node --import tsx hold-cache-lock.ts GITDIR
import { cacheHandoffPort } from '../../src/cache-clone/index.js';

const held = await cacheHandoffPort(process.argv[2]!).tryLead(async () => {
  process.stdout.write('held\n');
  // A timer keeps the process (and so the lock) alive: a bare pending promise would let it exit.
  await new Promise(() => setInterval(() => undefined, 60_000));
});
if (!held) process.stdout.write('busy\n');
