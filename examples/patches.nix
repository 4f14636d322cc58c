# A placeholder hash, on purpose: the warning's quick fix ("Fetch the source and fill in its hash")
# downloads the patch and writes its real hash here.
{ lib, fetchurl }:

fetchurl {
  url = "http://127.0.0.1:8790/fix-readme.patch";
  hash = lib.fakeHash;
}
