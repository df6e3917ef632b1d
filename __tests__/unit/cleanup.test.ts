// The cleanup registry on real folders: a scope removes what was made inside it,
// however it ends, and only that (concurrent builds in one process share nothing).
import { describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { cleanUpProcess, disposeLater, removeLater, withCleanup } from '../../src/cleanup.js'
import { newRunnerTemp } from '../support/runner-temp.js'

const folder = (root: string, name: string) => {
  const dir = path.join(root, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'file'), 'x')
  removeLater(dir)
  return dir
}

describe('withCleanup', () => {
  it('removes what the work registered, on success and on failure, and keeps what was released', async () => {
    const root = newRunnerTemp('cleanup')
    let disposed = 0
    await withCleanup(async () => {
      folder(root, 'a')
      const kept = path.join(root, 'kept')
      fs.writeFileSync(kept, 'handed on')
      removeLater(kept).release()
      disposeLater(() => void disposed++)
    })
    expect(fs.readdirSync(root)).toEqual(['kept'])
    expect(disposed).toBe(1)
    await expect(
      withCleanup(async () => {
        folder(root, 'b')
        throw new Error('failed build')
      })
    ).rejects.toThrow('failed build')
    expect(fs.readdirSync(root)).toEqual(['kept'])
    fs.rmSync(root, { recursive: true })
  })

  it('leaves a concurrent scope\'s folders alone until that scope ends', async () => {
    const root = newRunnerTemp('cleanup')
    let finishB: () => void = () => {}
    const bMayEnd = new Promise<void>((resolve) => (finishB = resolve))
    let bFolder = ''
    const b = withCleanup(async () => {
      bFolder = folder(root, 'b')
      await bMayEnd
    })
    await withCleanup(async () => void folder(root, 'a'))
    expect(fs.readdirSync(root)).toEqual(['b'])
    expect(fs.existsSync(path.join(bFolder, 'file'))).toBe(true)
    finishB()
    await b
    expect(fs.readdirSync(root)).toEqual([])
    fs.rmSync(root, { recursive: true })
  })

  it('outside any scope, registrations wait for the process cleanup', async () => {
    const root = newRunnerTemp('cleanup')
    folder(root, 'process-wide')
    await withCleanup(async () => {})
    expect(fs.readdirSync(root)).toEqual(['process-wide'])
    await cleanUpProcess()
    expect(fs.readdirSync(root)).toEqual([])
    fs.rmSync(root, { recursive: true })
  })
})
