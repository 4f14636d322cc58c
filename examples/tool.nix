# fetchzip with an SRI hash: the hash of the unpacked tree (recursive), not of the tarball.
{ fetchzip }:

fetchzip {
  url = "http://127.0.0.1:8790/tool-2.0.tar.gz";
  hash = "sha256-0lzKX43bTLhRTXY62lFBnPQTS8PqxhEVYRvXpHnDQPQ=";
}
