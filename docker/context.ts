// The build context of the toolchain image, as one tar file: docker/Dockerfile,
// the host packages dmafault needs (packages.txt), the Node.js binary running
// this process (node), and the working tree (project/: sources, dist/,
// node_modules/), so the image runs exactly this checkout with this Node.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tar from 'tar-fs';
import { hostPackages } from '../vm/provision/host-packages.js';
import { projectRoot } from '../vm/project-root.js';

export interface BuildContext {
  // The tar file; remove it with dispose().
  readonly file: string;
  // sha256 of the tar: the image's tag names it, so an unchanged context reuses the image.
  readonly hash: string;
  dispose(): Promise<void>;
}

// Not part of an image: history, results and caches of runs.
const SKIP = new Set(['.git', 'dmafault-failures', 'dmafault-audit', 'results', '.cache']);

export async function packContext(extraPackages: readonly string[] = []): Promise<BuildContext> {
  const dir = await mkdtemp(join(tmpdir(), 'dmafault-image-'));
  const root = join(dir, 'context');
  await mkdir(root);
  await copyFile(join(projectRoot, 'docker/Dockerfile'), join(root, 'Dockerfile'));
  await writeFile(join(root, 'packages.txt'), `${[...Object.keys(hostPackages), ...extraPackages].sort().join('\n')}\n`);
  await symlink(process.execPath, join(root, 'node'));
  await symlink(projectRoot, join(root, 'project'));
  const file = join(dir, 'context.tar');
  const hash = createHash('sha256');
  const ignore = (name: string) => {
    const rel = relative(root, name).split(sep);
    return rel[0] === 'project' && rel.length >= 2 && SKIP.has(rel[1]!);
  };
  // Fixed owner and times: the same tree gives the same tar, hence the same tag.
  // (tar-fs sorts directory entries with `sort`, which its types do not list.)
  const options: tar.PackOptions & { sort: boolean } = {
    dereference: true,
    sort: true,
    ignore,
    map: (header) => ({ ...header, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: new Date(0) }),
  };
  const pack = tar.pack(root, options);
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(pack, hashing, createWriteStream(file));
  return { file, hash: hash.digest('hex'), dispose: () => rm(dir, { recursive: true, force: true }) };
}
