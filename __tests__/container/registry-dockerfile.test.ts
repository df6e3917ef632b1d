import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {
  dockerBuildCommands,
  obtainDockerfileImage,
  type DockerfileContext
} from '../../src/container/dockerfile.js'
import { FledgeError } from '../../src/errors.js'
import { silentLogger } from '../../src/log.js'

let scratch: string
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'fledge-dockerfile-'))
})
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

function context(searchPath: string): DockerfileContext {
  return {
    log: silentLogger,
    network: { attempts: 1, retryBaseMs: 0, idleTimeoutMs: 1000, deadlineMs: 5000 },
    useCache: false,
    platform: { os: 'linux', architecture: 'amd64' },
    baseDir: '/plugin',
    tempDir: scratch,
    where: { file: 'fledge.toml', key: '[source] dockerfile' },
    searchPath
  }
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    if (error instanceof FledgeError) return error.format()
    throw error
  }
  throw new Error('expected a FledgeError')
}

describe('[source] dockerfile', () => {
  it('builds with buildx for the platform (--load, any driver), saves a docker archive, removes the tag', () => {
    const commands = dockerBuildCommands(
      {
        dockerfile: 'build/Dockerfile',
        context: 'src',
        target: 'runtime',
        buildArgs: { VERSION: '1.2', ARCH: 'x86_64' }
      },
      '/plugin',
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      '/tmp/run/dockerfile-image.tar',
      'fledge-build-abc:latest'
    )
    expect(commands).toEqual([
      {
        args: [
          'buildx',
          'build',
          '--file',
          '/plugin/build/Dockerfile',
          '--platform',
          'linux/arm64/v8',
          '--target',
          'runtime',
          '--build-arg',
          'ARCH=x86_64',
          '--build-arg',
          'VERSION=1.2',
          '--load',
          '--tag',
          'fledge-build-abc:latest',
          '/plugin/src'
        ]
      },
      { args: ['save', '--output', '/tmp/run/dockerfile-image.tar', 'fledge-build-abc:latest'] },
      { args: ['image', 'rm', 'fledge-build-abc:latest'], optional: true }
    ])
    const plain = dockerBuildCommands(
      { dockerfile: 'Dockerfile' },
      '/plugin',
      { os: 'linux', architecture: 'amd64' },
      '/t/i.tar',
      't:latest'
    )
    expect(plain[0]!.args).toEqual([
      'buildx',
      'build',
      '--file',
      '/plugin/Dockerfile',
      '--platform',
      'linux/amd64',
      '--load',
      '--tag',
      't:latest',
      '/plugin'
    ])
  })

  it('without docker on PATH: one sentence with the two-line alternative', async () => {
    const empty = fs.mkdtempSync(path.join(scratch, 'path-'))
    expect(await failure(obtainDockerfileImage({ dockerfile: 'Dockerfile' }, context(empty)))).toBe(
      'fledge.toml: [source] dockerfile: dockerfile = "Dockerfile" needs docker buildx, and docker is not on PATH. Fix: build and save the image yourself, then use it: `docker build -t plugin-image -f Dockerfile . && docker save -o plugin-image.tar plugin-image`, and in [source] replace dockerfile with image = "docker-archive:plugin-image.tar".'
    )
  })

  it('with a docker that has no buildx: the same sentence, saying why', async () => {
    const bin = fs.mkdtempSync(path.join(scratch, 'path-'))
    fs.writeFileSync(
      path.join(bin, 'docker'),
      '#!/bin/sh\necho "docker: \'buildx\' is not a docker command." >&2\nexit 1\n',
      { mode: 0o755 }
    )
    expect(
      await failure(obtainDockerfileImage({ dockerfile: 'Dockerfile' }, context(bin)))
    ).toContain(
      "needs docker buildx, and `docker buildx version` failed (docker: 'buildx' is not a docker command.). Fix: build and save the image yourself"
    )
  })
})
