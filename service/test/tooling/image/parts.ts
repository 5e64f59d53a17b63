// The Dockerfile's two base images for the image test: pulled where a registry answers, else built
// stand-ins (the Node image from Debian and npm, the adapter stage from the crate-built binary).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Engine } from './engine.ts';
import { mustRun, runCommand } from '../../../tools/run-command.ts';
import { cacheDir } from '../../../tools/build-cache.ts';
import { installAdapter, type Arch, type Pins, type Provenance } from '../../../tools/lambda-toolchain.ts';

/** The fully qualified name a bare Docker Hub reference resolves to (what buildah looks up). */
function qualified(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && (first.includes('.') || first.includes(':'))) return image;
  return `docker.io/${image.includes('/') ? image : `library/${image}`}`;
}

async function tryPull(engine: Engine, image: string, arch: Arch): Promise<boolean> {
  const pulled = await runCommand(engine.cli, ['pull', '--platform', `linux/${arch}`, image], {
    timeoutMs: 90_000,
  });
  return pulled.code === 0;
}

async function imageExists(engine: Engine, image: string): Promise<boolean> {
  return (await runCommand(engine.cli, ['image', 'inspect', image], { timeoutMs: 60_000 })).code === 0;
}

/**
 * Makes the Dockerfile's two base images present for `arch` under their own names: pulled when a
 * registry answers, otherwise stand-ins (cached under their own names and tagged for this build).
 */
export async function prepareBaseImages(
  engine: Engine,
  pins: Pins,
  arch: Arch,
  log: (line: string) => void,
): Promise<Provenance[]> {
  const nodeName = qualified(pins.nodeImage);
  const result: Provenance[] = [];
  if (await tryPull(engine, nodeName, arch)) {
    result.push({ part: `Node base image (${arch})`, real: true, detail: `${nodeName}, pulled` });
  } else {
    const standIn = `localhost/hapi-lambda-stand-in/node:${pins.nodeImage.split(':')[1] ?? ''}-${arch}`;
    if (!(await imageExists(engine, standIn))) {
      log(
        `building ${standIn} (Debian bookworm + node-linux-${arch === 'amd64' ? 'x64' : 'arm64'}@${pins.nodeVersion})`,
      );
      await mkdir(cacheDir, { recursive: true });
      await mustRun(
        'bash',
        [path.join(import.meta.dirname, 'node-base.sh'), pins.nodeVersion, arch, standIn, cacheDir],
        { timeoutMs: 1_200_000, log },
      );
    }
    await mustRun(engine.cli, ['tag', standIn, nodeName]);
    result.push({
      part: `Node base image (${arch})`,
      real: false,
      detail: `stand-in ${standIn}: no registry answered for ${nodeName}; Debian bookworm minbase + the official Node ${pins.nodeVersion} binary (npm registry), user node uid 1000, the official entrypoint and PATH`,
    });
  }

  if (await tryPull(engine, pins.adapterImage, arch)) {
    result.push({ part: `Web Adapter (${arch})`, real: true, detail: `${pins.adapterImage}, pulled` });
    return result;
  }
  const { binary, version } = await installAdapter(pins.adapterVersion, arch, log);
  const standIn = `localhost/hapi-lambda-stand-in/aws-lambda-adapter:${version}-${arch}`;
  if (!(await imageExists(engine, standIn))) {
    const container = (await mustRun('buildah', ['from', '--arch', arch, 'scratch'])).trim();
    await mustRun('buildah', ['copy', '--chmod', '755', container, binary, '/lambda-adapter']);
    await mustRun('buildah', ['config', '--arch', arch, '--os', 'linux', container]);
    await mustRun('buildah', ['commit', '--quiet', '--rm', container, standIn]);
  }
  await mustRun(engine.cli, ['tag', standIn, pins.adapterImage]);
  result.push({
    part: `Web Adapter (${arch})`,
    real: version === pins.adapterVersion,
    detail: `the real adapter built from the Rust crate registry (cargo install lambda_web_adapter@${version}) in an image of its own (${standIn}), as ${pins.adapterImage}${
      version === pins.adapterVersion
        ? ''
        : `: ${pins.adapterVersion} is not published there, ${version} is the nearest published version`
    }`,
  });
  return result;
}
