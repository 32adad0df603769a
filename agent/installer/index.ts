export {
  AbortedError,
  AllOriginsFailedError,
  ArchiveError,
  codeOf,
  DownloadError,
  HashMismatchError,
  InstallerError,
  type InstallerErrorCode,
  isInstallerError,
  type OriginFailure,
} from './errors.js';
export {
  type ArchiveFormat,
  DEFAULT_LIMITS,
  detectFormat,
  type ExtractLimits,
  ExtractSink,
} from './extract.js';
export { type InstallOptions, type InstallResult, installPackage } from './install.js';
export {
  current,
  DEFAULT_KEEP,
  listReleases,
  type PruneOptions,
  previous,
  prune,
  type ReleaseInfo,
  releaseDir,
  releasesDir,
  removeRelease,
  rollback,
  type SwitchResult,
  switchTo,
  uninstall,
} from './releases.js';
export { type StageOptions, type StageResult, stagePackage } from './stage.js';
export { type UnstageOptions, type UnstageResult, unstagePackage } from './unstage.js';
