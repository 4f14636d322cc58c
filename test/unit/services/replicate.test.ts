import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rootPath } from '../../../src/services/replicate';

test('replicate accepts a CID, an /ipfs/ or /ipns/ path, a bare IPNS name or a gateway URL', () => {
  const cid = 'bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi';
  const name = 'k51qzi5uqu5dl22az65qaqu3k7u5u8fj66xutu1d19splxl0lhkpp8foay2qmn';
  assert.equal(rootPath(cid), `/ipfs/${cid}`);
  assert.equal(rootPath(`/ipfs/${cid}/`), `/ipfs/${cid}`);
  assert.equal(rootPath(name), `/ipns/${name}`);
  assert.equal(rootPath(`/ipns/${name}`), `/ipns/${name}`);
  assert.equal(rootPath(`http://127.0.0.1:8080/ipns/${name}/cache`), `/ipns/${name}`);
  assert.equal(rootPath(`http://127.0.0.1:8080/ipfs/${cid}/cache/nix-cache-info`), `/ipfs/${cid}`);
});
