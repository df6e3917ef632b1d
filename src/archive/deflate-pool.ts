import * as os from 'node:os'
import { Worker } from 'node:worker_threads'

export interface DeflateJob {
  /** Moved to the worker (its buffer is detached here) and recycled afterwards. */
  data: Buffer
  dictionary: Uint8Array | undefined
  last: boolean
  level: number
}

interface Pending {
  resolve: (out: Buffer) => void
  reject: (error: Error) => void
}

/**
 * Worker threads that compress blocks: deflate-worker.mjs by default, or
 * another worker script that takes the same messages (lz4-worker.mjs,
 * zstd-worker.mjs). Jobs go to the least busy worker; results come back by id,
 * so order is the caller's business.
 */
export class DeflatePool {
  private readonly workers: { worker: Worker; busy: number }[] = []
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private failure: Error | undefined
  /** Block buffers back from the workers, to be filled again. */
  private readonly spare: ArrayBuffer[] = []

  constructor(
    readonly size: number = defaultPoolSize(),
    private readonly script: URL = new URL('./deflate-worker.mjs', import.meta.url)
  ) {}

  deflate(job: DeflateJob): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure)
    const slot = this.pick()
    const id = this.nextId++
    slot.busy++
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (out) => {
          slot.busy--
          resolve(out)
        },
        reject
      })
      // A block that is a view of a larger buffer is copied: only its bytes may cross.
      const data = ownsBuffer(job.data) ? new Uint8Array(job.data.buffer, 0, job.data.length) : Uint8Array.from(job.data)
      const dictionary = job.dictionary ? Uint8Array.from(job.dictionary) : undefined
      slot.worker.postMessage({ id, data, dictionary, last: job.last, level: job.level }, [data.buffer as ArrayBuffer])
    })
  }

  /** A buffer of `size` bytes to fill: a recycled block when one is free. */
  takeBuffer(size: number): Buffer {
    const spare = this.spare.pop()
    return spare && spare.byteLength === size ? Buffer.from(spare, 0, size) : Buffer.allocUnsafeSlow(size)
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()))
    this.workers.length = 0
  }

  private pick(): { worker: Worker; busy: number } {
    if (this.workers.length < this.size) {
      const slot = { worker: this.spawn(), busy: 0 }
      this.workers.push(slot)
      return slot
    }
    return this.workers.reduce((a, b) => (b.busy < a.busy ? b : a))
  }

  private spawn(): Worker {
    const worker = new Worker(this.script)
    worker.on('message', (message: { id: number; out?: Uint8Array; input?: Uint8Array; error?: string }) => {
      if (message.input && this.spare.length < 2 * this.size) this.spare.push(message.input.buffer as ArrayBuffer)
      const pending = this.pending.get(message.id)
      if (!pending) return
      this.pending.delete(message.id)
      if (message.out) pending.resolve(Buffer.from(message.out.buffer, message.out.byteOffset, message.out.byteLength))
      else pending.reject(new Error(message.error ?? 'compression worker failed'))
    })
    worker.on('error', (error) => this.fail(error))
    worker.on('exit', (code) => {
      if (code !== 0 && this.pending.size > 0) this.fail(new Error(`compression worker exited with code ${code}`))
    })
    return worker
  }

  private fail(error: Error): void {
    this.failure = error
    for (const pending of this.pending.values()) pending.reject(error)
    this.pending.clear()
  }
}

function ownsBuffer(data: Buffer): boolean {
  return data.byteOffset === 0 && data.buffer.byteLength === data.length && data.buffer instanceof ArrayBuffer
}

/** One worker per core; the main thread reads files and hashes meanwhile. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(8, os.availableParallelism?.() ?? os.cpus().length))
}
