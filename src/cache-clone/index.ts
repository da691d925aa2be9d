// A remote's cache clone on this machine: where it lives and the lock its processes take turns on.
export { CacheCloneLockedError, cacheCloneDir, cacheHandoffPort, isRemoteRepo, userCacheDir, withCacheLock } from './cache-clone.js';
