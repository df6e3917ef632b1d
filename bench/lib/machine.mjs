// Where the numbers came from.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import * as os from 'node:os'

function firstLine(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  if (r.error || r.status !== 0) return null
  return (r.stdout || r.stderr).split('\n')[0].trim()
}

export function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')
  const model = cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model ?? 'unknown'
  const flags = cpuinfo.match(/^flags\s*:\s*(.*)$/m)?.[1].split(' ') ?? []
  const osRelease = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)/m)?.[1]
  return {
    nproc: Number(firstLine('nproc', [])) || os.availableParallelism(),
    cpuModel: model,
    cpuFlags: ['sse4_2', 'avx2', 'pclmulqdq'].filter((f) => flags.includes(f)),
    ramGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    nodeZlib: process.versions.zlib,
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    kernel: `${os.type()} ${os.release()}`,
    os: osRelease ?? null,
    gzip: firstLine('gzip', ['--version']),
    cpio: firstLine('cpio', ['--version']),
    qemu: firstLine('qemu-system-x86_64', ['--version']),
    gcc: firstLine('gcc', ['--version'])
  }
}
