/**
 * Request coalescing: while work for a key is under way, later callers for
 * the same key wait on it instead of starting their own. One flight per key
 * in progress; the map holds only keys in flight, so it is bounded by the
 * requests being served.
 */
export class SingleFlight<T> {
  private readonly flights = new Map<string, Promise<T>>();

  get inFlight(): number {
    return this.flights.size;
  }

  /** Run `work` for `key`, or join the flight already under way (`joined`). */
  run(key: string, work: () => Promise<T>): { readonly result: Promise<T>; readonly joined: boolean } {
    const running = this.flights.get(key);
    if (running !== undefined) return { result: running, joined: true };
    const result = work().finally(() => this.flights.delete(key));
    this.flights.set(key, result);
    return { result, joined: false };
  }
}
