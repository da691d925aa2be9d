// Schemas built on first use. zod builds a schema's whole tree where it is declared, so every
// process paid for every record's schema at start-up (~10 ms of a cold deploy, which reads the
// records it has parsed before from its shelf and validates none of them). The handle stands for
// the schema in every way that matters: its type, its methods, and its place inside other schemas.

/** `build()`'s schema, built the first time anything asks the handle for a property. */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined;
  const schema = (): T => (built ??= build());
  // The proxied object is a stand-in: every trap answers from the built schema.
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(schema(), key, schema()),
    set: (_, key, value) => Reflect.set(schema(), key, value, schema()),
    has: (_, key) => Reflect.has(schema(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(schema()),
  });
}
