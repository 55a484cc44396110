/**
 * A value one step of the start-up provides and a step built before it uses: the user pool calls
 * the Lambda runtime, which is built after the plane; the edge routes to services built once its
 * port is known. Set once; read before it is set, it fails loudly instead of acting on nothing.
 */
interface LateBound<T> {
  /** The value; throws `NotBoundYetError` before `set`. */
  get(): T;
  /** Provides the value; a second call throws (two providers would be a wiring mistake). */
  set(value: T): void;
  /** Settles with the value once set, for a caller that may wait for it. */
  readonly ready: Promise<T>;
}

export class NotBoundYetError extends Error {
  constructor(what: string) {
    super(`${what} is used before the start-up provided it`);
    this.name = "NotBoundYetError";
  }
}

export function lateBound<T>(what: string): LateBound<T> {
  const slot: { value?: T; bound: boolean } = { bound: false };
  const settle: { resolve?: (value: T) => void } = {};
  const ready = new Promise<T>((resolve) => {
    settle.resolve = resolve;
  });
  return {
    get() {
      if (!slot.bound) throw new NotBoundYetError(what);
      return slot.value as T;
    },
    set(value) {
      if (slot.bound) throw new Error(`${what} is already provided`);
      slot.value = value;
      slot.bound = true;
      settle.resolve?.(value);
    },
    ready,
  };
}
