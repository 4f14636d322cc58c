# A generated source list, in the shape lock-file generators (node2nix and the like) write:
# an SRI sha512 and a base16 sha256.
{ fetchurl }:
{
  "left-pad" = fetchurl { url = "http://127.0.0.1:8790/left-pad-1.3.0.tgz"; sha512 = "f/XpRZlES2qkcG09QOJauWN2iK4i5ZKWTejb35J4oQYXpc2iS7sAKv2VWu/Uug+8eMNg4xo+4GiGW6VlwVWDnA=="; };
  "is-number" = fetchurl { url = "http://127.0.0.1:8790/is-number-7.0.0.tgz"; sha256 = "8f3ac1319783eeda094ca471b928106dd7f63a729f1d8a198fde451623a2c622"; };
}
