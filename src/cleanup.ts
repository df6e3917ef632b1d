/**
 * What a run must not leave behind (temp files and folders, worker threads), removed
 * however the run ends: at the end of the work that made it, when the process exits,
 * and on SIGINT/SIGTERM, which then end the process with 130/143 as a shell would.
 *
 * Registrations belong to the innermost `withCleanup` scope (tracked through async
 * calls), else to the process; a scope removes its own at its end, so concurrent
 * builds in one process never remove each other's temp folders.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import * as fs from 'node:fs'

export interface Registration {
  /** Runs the disposer now (once) and forgets it. */
  dispose(): Promise<void>
  /** Forgets it without running it: the thing was handed on (renamed into place). */
  release(): void
}

interface Entry {
  /** Synchronous, for process exit and signals, when nothing can be awaited. */
  disposeNow(): void
  dispose(): Promise<void>
}

class Scope {
  readonly entries = new Set<Entry>()
}

const processScope = new Scope()
const scopes = new AsyncLocalStorage<Scope>()
/** Everything registered and not yet disposed, whatever its scope: what a signal removes. */
const live = new Set<Entry>()

function register(entry: Entry): Registration {
  const scope = scopes.getStore() ?? processScope
  const forget = (): boolean => {
    const known = live.delete(entry)
    scope.entries.delete(entry)
    return known
  }
  scope.entries.add(entry)
  live.add(entry)
  return {
    dispose: async () => {
      if (forget()) await entry.dispose()
    },
    release: () => void forget()
  }
}

/** Removes `file` (a file or a whole folder) unless released first. */
export function removeLater(file: string): Registration {
  return register({
    disposeNow: () => fs.rmSync(file, { recursive: true, force: true, maxRetries: 2 }),
    dispose: () => fs.promises.rm(file, { recursive: true, force: true, maxRetries: 2 })
  })
}

/** Runs `dispose` (e.g. terminating worker threads) unless released first. */
export function disposeLater(dispose: () => void | Promise<void>): Registration {
  return register({
    disposeNow: () => void Promise.resolve(dispose()).catch(() => {}),
    dispose: async () => dispose()
  })
}

/** Runs `work`; what it registers and does not release is removed when it ends, however it ends. */
export async function withCleanup<T>(work: () => Promise<T>): Promise<T> {
  const scope = new Scope()
  try {
    return await scopes.run(scope, work)
  } finally {
    await disposeAll(scope)
  }
}

/** Removes everything the process registered outside any scope (the faces, at their end). */
export function cleanUpProcess(): Promise<void> {
  return disposeAll(processScope)
}

async function disposeAll(scope: Scope): Promise<void> {
  // Newest first: a file inside a folder goes before the folder.
  const entries = [...scope.entries].reverse()
  scope.entries.clear()
  for (const entry of entries) {
    if (!live.delete(entry)) continue
    await entry.dispose().catch(() => {})
  }
}

function disposeAllNow(): void {
  const entries = [...live].reverse()
  live.clear()
  for (const entry of entries) {
    try {
      entry.disposeNow()
    } catch {
      // the rest still goes
    }
  }
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const
let installed = false

/**
 * For the faces' process entry points, once: on SIGINT or SIGTERM remove everything
 * registered and exit 130/143; on any exit remove what is still registered.
 */
export function cleanUpOnExitAndSignals(): void {
  if (installed) return
  installed = true
  process.on('exit', disposeAllNow)
  for (const [signal, code] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.once(signal, () => {
      // Synchronous to the end: no other callback (a rename into place, a new temp
      // folder) runs between the removal and the exit.
      disposeAllNow()
      process.exit(code)
    })
  }
}
