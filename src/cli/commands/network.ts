// `berth network init`: writes Berth's default CNI network (bridge 10.88.0.0/16, no masquerade,
// portmap) into the configured conf dir, only when that dir holds no network config yet.
import type { Config } from "../../config/config.js";
import { writeDefaultConflist } from "../../network/cni/default-conf.js";

export async function networkInitCommand(config: Config): Promise<void> {
  const written = await writeDefaultConflist(config.network.confDir);
  process.stdout.write(written ? `wrote ${written}\n` : `${config.network.confDir} already holds a network config; left as is\n`);
}
