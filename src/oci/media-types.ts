/** Media types of the two image formats we write and read (OCI image-spec, Docker image manifest v2.2). */
export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayer: "application/vnd.oci.image.layer.v1.tar",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  ociLayerZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

export type MediaFamily = "oci" | "docker";

/**
 * The format family a media type belongs to, or null for anything else (artifact types, foreign layers
 * of other vendors). Decided by prefix so that variants we do not list (OCI non-distributable layers,
 * Docker foreign layers) still count: podman and cri-o reject images that mix families.
 */
export function familyOf(mediaType: string): MediaFamily | null {
  if (mediaType.startsWith("application/vnd.oci.image.")) return "oci";
  if (mediaType.startsWith("application/vnd.docker.")) return "docker";
  return null;
}
