/**
 * fledge's permission rules for mapped files, in its order. One deliberate
 * difference: the source's own bits are read the way git stores them
 * (executable or not), so the host's umask cannot leak into the image.
 */
const EXEC_DIRS = [
  '/bin',
  '/sbin',
  '/usr/bin',
  '/usr/sbin',
  '/usr/local/bin',
  '/usr/local/sbin',
  '/opt/bin',
  '/opt/sbin'
]
const LIB_DIRS = ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib', '/usr/local/lib64']

export const DIR_MODE = 0o755
export const EXEC_MODE = 0o755
export const FILE_MODE = 0o644

export function mappedFileMode(destination: string, sourceMode: number): number {
  if ((sourceMode & 0o111) !== 0) return EXEC_MODE
  if (isInProgramFolder(destination)) return EXEC_MODE
  const name = destination.slice(destination.lastIndexOf('/') + 1)
  const isSharedObject = name.endsWith('.so') || name.includes('.so.')
  if (isSharedObject && isInLibraryFolder(destination)) return EXEC_MODE
  return FILE_MODE
}

/** /bin, /usr/local/sbin, … (an absolute image path). */
export function isInProgramFolder(imagePath: string): boolean {
  return EXEC_DIRS.some((dir) => imagePath === dir || imagePath.startsWith(`${dir}/`))
}

/** /lib, /usr/lib64, … (an absolute image path). */
export function isInLibraryFolder(imagePath: string): boolean {
  return LIB_DIRS.some((dir) => imagePath.startsWith(`${dir}/`))
}
