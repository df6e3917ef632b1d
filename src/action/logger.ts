import * as core from '@actions/core'
import type { Logger } from '../log.js'

/** Engine messages as workflow log lines; warnings become annotations on the file and line. */
export const actionsLogger: Logger = {
  info: (message) => core.info(message),
  warn: (message, where) =>
    core.warning(message, where?.file ? { file: where.file, ...(where.line ? { startLine: where.line } : {}) } : {}),
  debug: (message) => core.debug(message)
}
