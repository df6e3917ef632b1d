/** Faults a test programs into the fake GitHub: each rule fires a bounded number of times. */

export type Fault =
  /** Answer with this status (after reading the request body). `leaveStarterAsset`: as a
   * failed upload does on GitHub, keep an empty asset in state "starter" behind. */
  | {
      status: number
      body?: unknown
      headers?: Record<string, string>
      leaveStarterAsset?: boolean
    }
  /** Destroy the connection: before answering, or after reading part of the body (an
   * upload then leaves a half-made "starter" asset, as on GitHub). */
  | { reset: 'before' | 'midway' }
  /** Wait, then handle the request normally. */
  | { delayMs: number }
  /** Store the upload, but report this `digest` for it (a wrong one, or null for none). */
  | { digest: string | null }
  /** Answer an upload with 201 and the asset, but keep nothing: it never appears in a listing. */
  | { vanish: true }
  /** Run this first (e.g. another job creating the same release), then handle normally. */
  | { beforeHandling: () => void }

export interface FaultRule {
  /** Any method when absent. */
  method?: string
  /** The exact path (no query), or a pattern tested against it. */
  path: string | RegExp
  /** How many matching requests get the fault; 1 when absent. */
  times?: number
  fault: Fault
}

export const WRONG_DIGEST = `sha256:${'0'.repeat(64)}`

interface ArmedRule {
  rule: FaultRule
  remaining: number
}

export class FaultPlan {
  private readonly rules: ArmedRule[] = []

  add(rule: FaultRule): void {
    const times = rule.times ?? 1
    if (!Number.isInteger(times) || times < 1 || times > 1000)
      throw new Error(`fault times must be 1..1000, got ${times}`)
    this.rules.push({ rule, remaining: times })
  }

  /** The fault for this request, if a rule matches; uses up one of its times. */
  take(method: string, path: string): Fault | undefined {
    const armed = this.rules.find(
      ({ rule, remaining }) =>
        remaining > 0 &&
        (rule.method === undefined || rule.method.toUpperCase() === method) &&
        (typeof rule.path === 'string' ? rule.path === path : rule.path.test(path))
    )
    if (!armed) return undefined
    armed.remaining -= 1
    return armed.rule.fault
  }

  /** Rules that have not fired as often as asked: a test whose faults never fired proves nothing. */
  unused(): FaultRule[] {
    return this.rules.filter((r) => r.remaining > 0).map((r) => r.rule)
  }
}

export const faultKind = (fault: Fault): string =>
  'status' in fault
    ? `status ${fault.status}`
    : 'reset' in fault
      ? `reset ${fault.reset}`
      : 'delayMs' in fault
        ? `delay ${fault.delayMs}ms`
        : 'digest' in fault
          ? 'digest'
          : 'vanish' in fault
            ? 'vanish'
            : 'beforeHandling'
