/**
 * zerodep library entry point. Everything the CLI does is a typed function exported here.
 */

// analyze / diff (issue #6)
export { type AnalyzedImage, type AnalyzeOptions, analyze, analyzeSource } from "./analyze/analyze.js";
export { type CheckImageOptions, type CheckImageResult, checkImage } from "./analyze/check-image.js";
export {
  type ConfigChange,
  DIFF_SCHEMA_VERSION,
  type DiffResult,
  diffImages,
  type FileChange,
} from "./analyze/diff.js";
export { type DiveInefficiency, type DiveMetrics, DiveModel } from "./analyze/dive-model.js";
export { auditElf, type ElfAudit } from "./analyze/elf-audit.js";
export { evaluateGates, type GateOptions, type GateResult } from "./analyze/gates.js";
export { type GoPackageSize, type GoSizeReport, goPackageOf, goSizeByPackage } from "./analyze/go-size.js";
export { type InspectImageOptions, inspectImage } from "./analyze/inspect-image.js";
export {
  ANALYZE_SCHEMA_VERSION,
  type AnalyzeResult,
  FINDING_CODES,
  type Finding,
  type FindingCode,
  LAYER_WARNING_CODES,
  type LayerReport,
  type LayerWarningCode,
  type TreeNode,
} from "./analyze/types.js";
export type { BinaryLayout, LayoutSection, LayoutSegment } from "./binary/layout.js";
export { build, projectLanguage } from "./build/build.js";
export { BUILD_CODES, type BuildCode } from "./build/codes.js";
export { type GitInfo, gitInfo } from "./build/git.js";
export { buildGo, type GoMain, listGoMains } from "./build/go.js";
export {
  findProjectFile,
  loadProject,
  mergeProject,
  type ProjectFile,
  parseProject,
  projectBuilds,
} from "./build/project.js";
export { buildRust, rustTriple } from "./build/rust.js";
export { renderTemplate, type TemplateData } from "./build/template.js";
export type {
  AddedPath,
  BuildOptions,
  BuildResult,
  BuiltBinary,
  BuiltImage,
  CgoMode,
} from "./build/types.js";
export {
  CHECK_CODES,
  CHECK_SCHEMA_VERSION,
  type CheckCode,
  type CheckOptions,
  type CheckProblem,
  type CheckResult,
  check,
  checkSource,
  NEED_CODES,
} from "./check/check.js";
export {
  type EntrypointVerdict,
  judgeEntrypoint,
  type RuntimeConfig,
  type RuntimeUser,
  resolveUser,
} from "./check/entrypoint.js";
export { runCli } from "./cli/run.js";
export type { Diagnostic, Severity } from "./diagnostic.js";
export { archName } from "./elf/constants.js";
export { type ElfFile, readElf } from "./elf/elf-file.js";
export { type ElfHeader, isElf, parseElfHeader } from "./elf/header.js";
export { compareDotted, minimumGlibc, type VersionDef, type VersionNeed } from "./elf/versions.js";
export { IoError, ParseError, UsageError, ZerodepError } from "./errors.js";
export { ArchiveImageSource } from "./image/archive-source.js";
// Registries (issue #5): references, auth, the push protocol, and copy between any two media.
export { type CopyEvent, type CopyOptions, type CopyResult, copyImage } from "./image/copy.js";
export { FileIndex, type IndexNode, type WasteEvent, type WasteReason } from "./image/file-index.js";
export { ImageRootFs } from "./image/image-root-fs.js";
export { compressionOf, layerTar } from "./image/layer-stream.js";
export { ArchiveImageSink, LayoutImageSink } from "./image/layout-sink.js";
export { LayoutImageSource } from "./image/layout-source.js";
export { classifyLayerPath, type MergedEntry, MergedTree } from "./image/merged-tree.js";
export {
  append,
  emptyImage,
  type HistoryEntry,
  type Image,
  type ImageIndex,
  imageIndex,
  imageSource,
  type Layer,
  readImage,
  sourceImage,
  withAnnotations,
  withConfig,
} from "./image/model.js";
// One reference type for every medium (issue #13 item 3): parsed once, formatted canonically.
export {
  type DockerArchiveRef,
  type FileImageRef,
  formatImageRef,
  type ImageRef,
  isLayoutTag,
  type OciArchiveRef,
  type OciLayoutRef,
  parseImageArg,
  parseImageRef,
  type RegistryRef,
  type Transport,
  transportOf,
} from "./image/reference.js";
export {
  formatPlatform,
  parsePlatform,
  platformMatches,
  type ResolvedImage,
  resolveImage,
  resolveImages,
} from "./image/select.js";
export type { BlobAction, BlobOrigin, ImageSink } from "./image/sink.js";
export type { ImageSource } from "./image/source.js";
export { type StagedLayer, type StageLayerOptions, stageLayer } from "./image/staged-layer.js";
export { inspectFile, inspectSource } from "./inspect/inspect.js";
export { sniffFormat } from "./inspect/other-formats.js";
export {
  type DebugInfo,
  type GoInfo,
  type GoModule,
  type Hardening,
  INSPECT_SCHEMA_VERSION,
  INSPECT_WARNING_CODES,
  type InspectResult,
  type InspectWarningCode,
  type Libc,
  type Linkage,
  type SectionSize,
  type Warning,
} from "./inspect/types.js";
export { BufferSource, type ByteSource, FileSource } from "./io/reader.js";
export { K8S_CODES, type K8sCode } from "./k8s/codes.js";
// k8s (issue #16): manifests derived from the image, and the same rules as an admission policy
export {
  DEFAULT_RESOURCES,
  GEN_KINDS,
  type GenFacts,
  type GenKind,
  type GenOptions,
  type GenResources,
  type GenResult,
  type GenWarning,
  generateManifests,
  goFollowsCpuLimit,
  K8S_GEN_CODES,
  type K8sGenCode,
  toYamlDocuments,
} from "./k8s/gen.js";
export { type ImageCheckOptions, type ImageCheckResult, imageChecks } from "./k8s/image-checks.js";
export { IMAGE_CHECK_CODES, type ImageCheckCode } from "./k8s/image-codes.js";
export { type LintOptions, type LintResult, lintManifests } from "./k8s/lint.js";
export {
  gatekeeperConstraints,
  kyvernoPolicy,
  POLICY_EXPLANATION,
  POLICY_RULES,
  type PolicyOptions,
  type PolicyResult,
} from "./k8s/policy.js";
export { evaluatePodSecurity, formatPodSecurity, podSecurityChecks } from "./k8s/psa.js";
export { toSarif } from "./k8s/sarif.js";
export type { K8sDocument, K8sFinding, PodSecurityLevel, PodSecurityViolation } from "./k8s/types.js";
export { podOf } from "./k8s/workloads.js";
export { loadManifests, readManifestFile } from "./k8s/yaml.js";
export { writeDockerArchive, writeOciArchive } from "./oci/archive.js";
export { formatReference, type ImageReference, parseReference } from "./oci/distribution-reference.js";
export {
  buildConfig,
  buildIndex,
  buildManifest,
  canonicalJson,
  type Descriptor,
  type Digest,
  type ImageConfig,
  type Index,
  LayoutReader,
  LayoutWriter,
  type Manifest,
  MediaType,
  type Platform,
  sha256,
} from "./oci/index.js";
export {
  checkManifestCounts,
  MANIFEST_LIMIT_CODES,
  MAX_INDEX_MANIFESTS,
  MAX_MANIFEST_LAYERS,
  type ManifestLimitCode,
} from "./oci/limits.js";
export {
  checkConfig,
  checkIndex,
  checkManifest,
  IMAGE_ERROR_CODES,
  type ImageErrorCode,
  validateImageJson,
} from "./oci/validate.js";
export { type Built, buildPackImage } from "./pack/builder.js";
export {
  type PackDestination,
  type PackedImage,
  type PackOptions,
  type PackResult,
  pack,
  parsePackOut,
} from "./pack/pack.js";
export { packAndPush } from "./pack/pack-push.js";
export { type FetchedManifest, getManifest, putManifest } from "./registry/api.js";
export { type Challenge, parseChallenges } from "./registry/challenge.js";
export { RegistryClient, RegistrySession } from "./registry/client.js";
export {
  authFilePaths,
  type Credential,
  type CredentialOptions,
  findCredential,
  storeCredential,
} from "./registry/credentials.js";
export { REGISTRY_ERROR_CODES, RegistryError, type RegistryErrorCode } from "./registry/errors.js";
export { type LoginResult, login } from "./registry/login.js";
export type { RegistryOptions } from "./registry/options.js";
export { RegistryImageSink } from "./registry/sink.js";
export { RegistryImageSource } from "./registry/source.js";
export { uploadBlob } from "./registry/upload.js";
export { renderHtmlReport, writeHtmlReport } from "./report/html.js";
export { type DepsOptions, deps } from "./resolve/deps.js";
export { DEP_CODES, type DepCode, type DepProblem } from "./resolve/resolve.js";
export { type ScanOptions, scanTrees } from "./scan/scan.js";
export { HOSTILE_PATH_CODES, TAR_WARNING_CODES, type TarWarning, type TarWarningCode } from "./tar/reader.js";
export {
  COPY_SCHEMA_VERSION,
  type CopyReport,
  copy,
  openImageSink,
  parsePullOut,
  pull,
  push,
  registryRef,
  type TransferOptions,
} from "./transfer/copy.js";
export {
  type OpenImageOptions,
  type OpenSinkOptions,
  openImage,
  openSink,
  openSource,
} from "./transfer/open.js";
