/** The bundle of the current sources, built if missing. Throws when it cannot be built. */
export function weftBundle(): Promise<string>;
/** Hash of every source under dir the bundle may contain, of where they are and of how it is built. */
export function sourceHash(dir: string): string;
