// A small typed event emitter, AudioRecorder's base: listener errors never reach the capture callback.
/** A map from event name to the argument tuple its listeners receive. */
export type EventMap<E> = { [K in keyof E]: unknown[] };

/** A listener for event `K` of map `E`. */
export type Listener<E extends EventMap<E>, K extends keyof E> = (...args: E[K]) => void;

/**
 * A small typed event emitter. Unlike `node:events`, emitting `'error'` with no listener does not
 * throw, and a listener that throws never breaks the emitter's caller (the capture callback): the
 * exception goes to `onListenerError`.
 */
export class TypedEmitter<E extends EventMap<E>> {
  readonly #listeners = new Map<keyof E, Set<Listener<E, keyof E>>>();
  readonly #onListenerError: (error: unknown, event: keyof E) => void;

  constructor(onListenerError: (error: unknown, event: keyof E) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  /** Adds a listener; returns `this` for chaining. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<E, keyof E>);
    return this;
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    const wrapper: Listener<E, K> = (...args) => {
      this.off(event, wrapper);
      listener(...args);
    };
    return this.on(event, wrapper);
  }

  /** Removes a listener added with `on`. */
  off<K extends keyof E>(event: K, listener: Listener<E, K>): this {
    this.#listeners.get(event)?.delete(listener as Listener<E, keyof E>);
    return this;
  }

  /** Number of listeners for `event`. */
  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Calls every listener of `event` in order; returns whether there was any. */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
    return true;
  }
}
