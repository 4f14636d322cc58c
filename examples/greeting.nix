# A nixpkgs-style package: fetchurl with a Nix base32 sha256, its URL built from pname and version.
# Hover the hash: every encoding and its IPFS CID. The lens above fetchurl pins the source.
{ stdenv, fetchurl }:

stdenv.mkDerivation rec {
  pname = "greeting";
  version = "1.0";

  src = fetchurl {
    url = "http://127.0.0.1:8790/${pname}-${version}.tar.gz";
    sha256 = "18834vfr33ipk2xg49kcih157farlgrh247hmggimwxbf2j9apqb";
  };

  installPhase = "install -Dm755 greet.sh $out/bin/greet";
}
