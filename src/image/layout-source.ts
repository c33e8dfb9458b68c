import { LayoutReader } from "../oci/layout.js";
import type { Descriptor } from "../oci/types.js";
import type { ImageSource } from "./source.js";

/** `oci:DIR[:TAG]`: an OCI image layout directory. */
export class LayoutImageSource implements ImageSource {
  readonly name: string;
  private constructor(
    readonly reader: LayoutReader,
    private readonly tag: string | undefined,
    name: string,
  ) {
    this.name = name;
  }

  static async open(dir: string, tag: string | undefined, name = `oci:${dir}${tag ? `:${tag}` : ""}`) {
    return new LayoutImageSource(await LayoutReader.open(dir), tag, name);
  }

  async resolve(): Promise<Descriptor> {
    return this.reader.resolveRef(this.tag);
  }
  blob(desc: Descriptor): AsyncIterable<Uint8Array> {
    return this.reader.blob(desc);
  }
  readJson<T>(desc: Descriptor): Promise<T> {
    return this.reader.readJson<T>(desc);
  }
  async close(): Promise<void> {}
}
