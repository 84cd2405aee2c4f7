/**
 * An object that behaves as `target` except for the methods in `overrides`; every other method is
 * bound to `target`, so classes with private state keep working behind it. Used to decorate a
 * port (a trigger on create, write counting) without subclassing its adapter.
 */
export function override<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      if (Object.hasOwn(overrides, property)) return (overrides as Record<PropertyKey, unknown>)[property];
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(object) : value;
    },
  });
}
