import { open } from 'node:fs/promises'

/**
 * Reads byte ranges at given offsets, so the ELF parser touches only the few
 * hundred bytes it needs even in a 50 MB binary.
 */
export interface PositionalReader {
  readonly size: number
  /** Up to `length` bytes at `offset`; fewer only where the file ends. */
  read(offset: number, length: number): Promise<Uint8Array>
  close(): Promise<void>
}

export function bytesReader(data: Uint8Array): PositionalReader {
  return {
    size: data.byteLength,
    read: (offset, length) =>
      Promise.resolve(data.subarray(Math.min(offset, data.byteLength), offset + length)),
    close: () => Promise.resolve()
  }
}

export async function openFileReader(path: string): Promise<PositionalReader> {
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    return {
      size,
      async read(offset, length) {
        const wanted = Math.max(0, Math.min(length, size - offset))
        const buffer = new Uint8Array(wanted)
        let filled = 0
        while (filled < wanted) {
          const { bytesRead } = await handle.read(buffer, filled, wanted - filled, offset + filled)
          if (bytesRead === 0) break
          filled += bytesRead
        }
        return buffer.subarray(0, filled)
      },
      close: () => handle.close()
    }
  } catch (error) {
    await handle.close()
    throw error
  }
}
