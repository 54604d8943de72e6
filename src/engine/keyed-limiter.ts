// Bounded concurrency where tasks sharing a key never overlap: WordPress has no unique
// index on login or email, so one person in flight twice can become two accounts.
export class KeyedLimiter {
  readonly #limit: number;
  #running = 0;
  readonly #queue: Array<() => void> = [];
  readonly #tails = new Map<string, Promise<void>>();

  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    const previous = keys.map((key) => this.#tails.get(key)).filter((tail) => tail !== undefined);
    let finish!: () => void;
    const done = new Promise<void>((resolve) => {
      finish = resolve;
    });
    for (const key of keys) this.#tails.set(key, done);
    const result = Promise.all(previous)
      .then(() => this.#acquire())
      .then(() => task())
      .finally(() => {
        this.#release();
        finish();
        for (const key of keys) if (this.#tails.get(key) === done) this.#tails.delete(key);
      });
    return result;
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#limit) {
      this.#running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#running--;
  }
}
