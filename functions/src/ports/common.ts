/** Options every port method accepts. */
export interface CallOptions {
  /** Aborts the call; an aborted call rejects with `cancelled` and leaves no partial write. */
  signal?: AbortSignal;
}

/** One page of a listing; `nextCursor` is absent on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}
