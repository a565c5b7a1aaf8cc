/**
 * MAX_DOC_BYTES for one open doc without encoding it on every update: a running upper bound
 * (loaded size plus every update accepted since), measured for real (one full encode) only
 * when an update would take the bound past the limit.
 */
export class DocSizeBudget {
  private approxBytes: number

  constructor(
    readonly limit: number,
    loadedBytes: number,
    /** The doc's exact encoded size now. */
    private readonly measure: () => number,
  ) {
    this.approxBytes = loadedBytes
  }

  /** An upper bound on the doc's encoded size. */
  get bound(): number {
    return this.approxBytes
  }

  /** Whether an update of `incomingBytes` may be applied. */
  fits(incomingBytes: number): boolean {
    if (this.approxBytes + incomingBytes <= this.limit) return true
    // The running total only grows; measure for real before refusing anything.
    this.approxBytes = this.measure()
    return this.approxBytes + incomingBytes <= this.limit
  }

  /** Measures the doc for real now (the bound becomes exact) and returns its size. */
  remeasure(): number {
    this.approxBytes = this.measure()
    return this.approxBytes
  }

  /** An update of `bytes` was accepted. */
  grew(bytes: number): void {
    this.approxBytes += bytes
  }
}
